# The watchdog (src/ruby/watchdog.c): each worker thread has its own watch slot,
# begun and ended without a lock. A handler that overruns handler_timeout and
# then returns is fired on exactly once, its VM is replaced, and the load that
# ran beside it on other threads (slots reused run after run) is never fired on.
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
new_site watchdog 'handler_timeout = 1' 'min_worker = 2' 'max_worker = 4'
handler envfrom 'if Pmilter::Session.new.envelope_from == "<slow@x>"
  t = Time.now
  while Time.now - t < 2.5; end   # past handler_timeout, then it returns
end'
start_pmilter "$CONF" || fail "watchdog: start" "$(cat "$PM_ERR")"
"$CLIENT" --load -s "unix:$SOCK" -c 8 -m 20 -t 3 --json >"$D/load.json" 2>&1 &
load=$!
sleep 0.3
mt "watchdog: a handler past handler_timeout has its MTA connection closed" '
local conn = connect()
mt.set_timeout(5)
step(conn, SMFIP_NOCONNECT, mt.conninfo, "h", "192.0.2.1")
local err = mt.mailfrom(conn, "<slow@x>")
local reply = err == nil and mt.getreply(conn) or nil
expect("no verdict for the overrunning handler: " .. tostring(reply), err ~= nil or reply == nil or reply == 0)'
wait "$load"
if jq -e '.messages > 100 and .errors == 0' "$D/load.json" >/dev/null 2>&1; then
    pass "watchdog: 8 sessions of load beside it all went through"
else
    fail "watchdog: 8 sessions of load beside it all went through" "$(cat "$D/load.json")"
fi
if wait_for grep -q 'came back after the watchdog gave up on it' "$PM_ERR"; then
    pass "watchdog: the handler that came back is logged, its VM not reused"
else
    fail "watchdog: the handler that came back is logged, its VM not reused" "$(tail -3 "$PM_ERR")"
fi
n=$(grep -c 'has run for more than 1 s' "$PM_ERR")
[ "$n" = 1 ] && pass "watchdog: fired exactly once, on the overrunning run" || fail "watchdog: fired exactly once, on the overrunning run" "$n times: $(grep 'has run' "$PM_ERR" | head -3)"
"$CLIENT" --load -s "unix:$SOCK" -c 4 -m 5 -t 1.5 --json >"$D/after.json" 2>&1
if jq -e '.messages > 20 and .errors == 0' "$D/after.json" >/dev/null 2>&1 && [ "$(grep -c 'has run for more than' "$PM_ERR")" = 1 ]; then
    pass "watchdog: after it, mail is served and nothing else is fired on"
else
    fail "watchdog: after it, mail is served and nothing else is fired on" "$(cat "$D/after.json")"
fi
stop_clean "watchdog"
