s = Pmilter::Session.new
h = Pmilter::Session::Headers.new

puts "myhostname: #{s.myhostname}"
puts "message_id: #{s.message_id}"
puts "reveive_time: #{Time.at(s.receive_time).ctime}"
puts "add_header(X-Pmilter:True): #{h['X-Pmilter'] = 'Enable'}"

if s.envelope_from == "<change-from@example.com>"
  puts "change_envelope_from: #{s.change_envelope_from '<new-from@example.com>'}"
end

if s.envelope_to == "<add-to@example.com>"
  puts "add_envelope_to: #{s.add_envelope_to '<new-to@example.com>'}"
end
