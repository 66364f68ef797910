s = Pmilter::Session.new
puts "env from args: #{s.envelope_from}"
puts "env from symval: #{s.mail_addr}"
puts "auth_authen: #{s.auth_authen}"
puts "auth_author: #{s.auth_author}"
puts "auth_type: #{s.auth_type}"

if s.envelope_from == "<spam-from@example.com>"
  Pmilter.status = Pmilter::SMFIS_REJECT
end
