# End of message: mark the mail as filtered and log one line per message
# (stdout; under systemd it is in `journalctl -u pmilter`).
s = Pmilter::Session.new
Pmilter::Session::Headers.new["X-Pmilter"] = "Enable"
puts "pmilter: queue_id=#{s.queue_id} from=#{s.envelope_from} to=#{s.envelope_to_all.join(',')}"
