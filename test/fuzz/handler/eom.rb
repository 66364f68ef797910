n = fuzz_read_facts
s = Pmilter::Session.new
h = Pmilter::Session::Headers.new
h["X-Fuzz-Checked"] = "yes; facts=#{n}"
from = s.envelope_from.to_s
s.change_envelope_from("<changed@example.org>") if from =~ /change/
s.add_envelope_to("<added@example.org>") if s.envelope_to.to_s =~ /add/
