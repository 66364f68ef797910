fuzz_read_facts
Pmilter.status = Pmilter::SMFIS_REJECT if Pmilter::Session.new.client_hostname.to_s =~ /reject/
