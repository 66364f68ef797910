# A handler that raises: logged with file:line, answered with handler_error
# (default tempfail, so the MTA keeps the mail), and the server keeps serving.
new_site raise
handler envfrom 's = Pmilter::Session.new
raise "bad sender #{s.envelope_from}" if s.envelope_from == "<boom@x>"'
handler eom 'Pmilter::Session.new.change_envelope_from("<a@b>") if Pmilter::Session.new.envelope_from == "<eom@x>"
Pmilter::Session::Headers.new["Bad Name"] = "v" if Pmilter::Session.new.envelope_from == "<badname@x>"
Pmilter::Session::Headers.new["X-Ok"] = "a\r\nb" if Pmilter::Session.new.envelope_from == "<inject@x>"'
handler envrcpt 'Pmilter::Session.new.change_envelope_from("<a@b>") if Pmilter::Session.new.envelope_from == "<early@x>"'
start_pmilter "$CONF" || fail "raise: start" "pmilter did not start"
mt "raise: a handler that raises answers tempfail" '
local conn, r = message({from = "<boom@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "raise: the log names file:line, message and class" 'handler/envfrom.rb:2: bad sender <boom@x> \(RuntimeError\) \(phase envfrom, session [0-9]+, queue 4XyZ1; answering tempfail\)'
mt "raise: the next connection is served" '
local conn, r = message({from = "<fine@x>", to = "<x@y>"})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)'
mt "raise: an eom-only method called in envrcpt answers tempfail" '
local conn, r = message({from = "<early@x>"})
expect_reply("envrcpt", r.envrcpt, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "raise: the phase error says where the method is allowed" 'change_envelope_from is only allowed in the eom phase \(called in envrcpt\) \(Pmilter::PhaseError\)'
mt "raise: an invalid header name raises ArgumentError and answers tempfail" '
local conn = connect()
local _, r = message({conn = conn, from = "<badname@x>"})
expect_reply("eom", r.eom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "raise: the header error names the bad byte" 'invalid byte 0x20 in header name \(ArgumentError\)'
mt "raise: CR LF injection into a header value is refused" '
local _, r = message({from = "<inject@x>"})
expect_reply("eom", r.eom, SMFIR_TEMPFAIL)'
log_has "raise: the injection is named in the log" 'line break in header value that is not a folded continuation \(ArgumentError\)'
stop_clean "raise"

new_site raise_continue 'handler_error = "continue"'
handler envfrom 'raise ArgumentError, "nope"'
start_pmilter "$CONF" || fail "raise_continue: start" "pmilter did not start"
mt "raise: handler_error = continue lets the message through" '
local conn, r = message({})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)'
log_has "raise: the log says which verdict was given" 'handler/envfrom.rb:1: nope \(ArgumentError\) .*answering continue'
stop_clean "raise_continue"
