# bench: add one header at end of message, as bench/baseline.c does
Pmilter::Session::Headers.new["X-Pmilter"] = "Enable"
