# Reads every fact Pmilter::Session offers, whatever the phase, so that fuzzed
# input reaches every binding. A PhaseError (fact not available in this phase)
# is expected; anything else propagates and shows up as a tempfail + log line.
FUZZ_FACTS = %w(client_ipaddr client_hostname client_daemon helo_hostname envelope_from envelope_to rcpt_to
                mail_addr rcpt_addr myhostname message_id auth_type auth_authen auth_author cert_issuer
                cert_subject cipher_bits cipher tls_version handler_phase_name receive_time body_chunk)
def fuzz_read_facts
  s = Pmilter::Session.new
  n = 0
  FUZZ_FACTS.each do |m|
    begin
      v = s.send(m)
      n += v.to_s.size
    rescue Pmilter::PhaseError, ArgumentError
      n += 1
    end
  end
  begin
    Pmilter::Session::Headers.new.header.each { |k, v| n += k.size + v.size }
  rescue Pmilter::PhaseError
  end
  n
end
