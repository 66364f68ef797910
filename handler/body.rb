puts "body chunk; #{Pmilter::Session.new.body_chunk}"

# Skip the rest of the body: the handler runs once per message.
Pmilter.status = Pmilter::SMFIS_SKIP
