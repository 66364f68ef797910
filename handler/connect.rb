s = Pmilter::Session.new
puts "hello pmilter handler called from #{Pmilter.name}"
puts "client_ipaddr: #{s.client_ipaddr}"
puts "client_hostname: #{s.client_hostname}"
puts "client_daemon: #{s.client_daemon}"
puts "handler_phase_name: #{s.handler_phase_name}"
