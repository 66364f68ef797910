s = Pmilter::Session.new
puts "helo hostname: #{s.helo_hostname}"
puts "tls_client_issuer: #{s.cert_issuer}"
puts "tls_client_subject: #{s.cert_subject}"
puts "cipher_bits: #{s.cipher_bits}"
puts "cipher: #{s.cipher}"
puts "tls_version: #{s.tls_version}"
