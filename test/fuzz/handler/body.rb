fuzz_read_facts
chunk = Pmilter::Session.new.body_chunk.to_s
chunk =~ /https?:\/\/([a-z0-9.-]+)(\/\S*)?/i
chunk.gsub(/\r\n/, "\n").split(/\n/).each do |line|
  Pmilter.status = Pmilter::SMFIS_REJECT if line =~ /\AX-Fuzz-Reject:\s*(yes|true)\s*\z/i
end
