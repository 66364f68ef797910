s = Pmilter::Session.new
puts "env to arg: #{s.envelope_to}"
puts "env to symval: #{s.rcpt_addr}"
