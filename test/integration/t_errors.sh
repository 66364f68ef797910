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

# Scripts that misbehave: run forever, allocate without bound, recurse without end.
new_site runaway 'handler_timeout = 1' 'handler_memory = 16' 'min_worker = 2' 'max_worker = 2'
handler envfrom 'case Pmilter::Session.new.envelope_from
when "<loop@x>" then while true; end
when "<alloc@x>" then a = []; loop { a << ("x" * 100_000) }
when "<deep@x>"
  def down(n); down(n + 1); end
  down(0)
when "<exit@x>" then exit(1)
end
puts "envfrom ok #{Pmilter::Session.new.envelope_from}"'
start_pmilter "$CONF" || fail "runaway: start" "$(cat "$PM_ERR")"
mt "runaway: a handler that allocates without bound gets NoMemoryError (tempfail)" '
local conn, r = message({from = "<alloc@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "runaway: the memory error is logged" '\(NoMemoryError\)'
mt "runaway: endless recursion gets SystemStackError (tempfail)" '
local conn, r = message({from = "<deep@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "runaway: the stack error is logged" 'SystemStackError|stack level too deep'
mt "runaway: a handler that calls exit (mruby has none) answers tempfail, the server stays" '
local conn, r = message({from = "<exit@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "runaway: the missing exit is logged with file:line" "handler/envfrom.rb:7: undefined method .exit. \\(NoMethodError\\)"
# Last: the looping handler's thread spins on for good, taking CPU from any handler after it.
mt "runaway: a handler that loops forever: the MTA connection is closed after handler_timeout" '
local conn = connect()
mt.set_timeout(5)
step(conn, SMFIP_NOCONNECT, mt.conninfo, "h", "192.0.2.1")
local err = mt.mailfrom(conn, "<loop@x>")
local reply = err == nil and mt.getreply(conn) or nil
expect("the MTA got a verdict although the handler never ended: " .. tostring(reply), err ~= nil or reply == nil or reply == 0)'
log_has "runaway: the watchdog names the handler and the timeout" 'handler/envfrom.rb has run for more than 1 s \(phase envfrom, session [0-9]+\): closing this MTA connection'
log_has "runaway: damaged VMs are replaced" 'replacing a VM whose handler ran out of memory or stack'
mt "runaway: with both original VMs gone, normal mail is still served" '
for i = 1, 3 do
  local conn, r = message({from = "<fine@x>"})
  expect_reply("envfrom " .. i, r.envfrom, SMFIR_CONTINUE)
  mt.disconnect(conn)
end'
out_has "runaway: the replacement VMs ran the handler" "envfrom ok <fine@x>"
stop_clean "runaway"

# Nothing a script or the MTA sends can forge a log line.
new_site logescape
handler envfrom 'raise "evil\n[Thu, 01 Jan 2026 00:00:00 GMT][notice]: forged #{Pmilter::Session.new.envelope_from}"'
start_pmilter "$CONF" || fail "logescape: start" "$(cat "$PM_ERR")"
mt "logescape: a raising handler with a newline in its message" '
local conn, r = message({from = "<a\rb@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
if grep -q '^\[Thu, 01 Jan 2026' "$PM_ERR"; then fail "logescape: control characters are escaped in the log" "a forged line appeared"
elif grep -qF 'evil\x0a[Thu, 01 Jan 2026 00:00:00 GMT][notice]: forged <a\x0db@x>' "$PM_ERR"; then pass "logescape: control characters are escaped in the log"
else fail "logescape: control characters are escaped in the log" "$(grep evil "$PM_ERR")"; fi
stop_clean "logescape"
