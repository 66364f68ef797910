# Signals and stops (issue 11 A5, A6, A9, A10): a reload asked for during
# start-up waits for serving to begin, SIGHUP reloads, a reload that hangs
# does not block later ones, and a handler stuck outside any message does
# not cut a message in flight on SIGTERM.
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
printf 'From: <a@example.com>\nTo: <b@example.org>\nSubject: signals\n\nbody\n' >"$T/signals.eml"
# wait_log SECONDS REGEX: waits until pmilter's stderr matches.
wait_log() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do grep -qE -- "$2" "$PM_ERR" && return 0; sleep 0.1; done
    return 1
}

# A6: SIGUSR1 and SIGHUP while handlers compile and a library runs.
new_site startup_signals 'min_worker = 1'
handler envfrom 'x = 1'
# A big handler takes about a second to compile: signals arrive meanwhile.
python3 -c 'print("\n".join("p %d" % i for i in range(22000)))' >"$D/handler/big.rb"
sed -i "/^\[handler.session\]/a mruby_helo_handler = \"handler/big.rb\"" "$CONF"
printf 't = Time.now\nwhile Time.now - t < 1.5; end\n' >"$D/slow_library.rb"
printf '\n[handler.config]\nmruby_library = ["slow_library.rb"]\n' >>"$CONF"
PM_OUT=$D/out; PM_ERR=$D/err
"$PMILTER" -c "$CONF" >"$PM_OUT" 2>"$PM_ERR" &
PM_PID=$!
on_exit "kill -9 $PM_PID"
sleep 0.2 # past exec and the first lines of main
for i in $(seq 1 40); do
    kill -0 "$PM_PID" 2>/dev/null || break
    if [ $((i % 2)) = 0 ]; then kill -USR1 "$PM_PID" 2>/dev/null; else kill -HUP "$PM_PID" 2>/dev/null; fi
    sleep 0.05
    grep -q 'listening on' "$PM_ERR" && break
done
# The reload compiles big.rb and runs slow_library again: give a loaded machine (or TSan) time.
if wait_log 30 'reloaded .*new sessions use it' && kill -0 "$PM_PID" 2>/dev/null; then
    pass "startup_signals: SIGUSR1/SIGHUP during start-up do not kill pmilter; the reload runs once serving starts"
else fail "startup_signals: SIGUSR1/SIGHUP during start-up do not kill pmilter" "alive=$(kill -0 "$PM_PID" 2>/dev/null && echo yes || echo no); $(tail -3 "$PM_ERR" | tr '\n' ' ')"; fi
log_has "startup_signals: the deferred reload is logged" 'a reload was asked for during start-up: it runs now'
"$CLIENT" -s "unix:$SOCK" "$T/signals.eml" >/dev/null 2>&1 && pass "startup_signals: it then serves mail" || fail "startup_signals: it then serves mail" "client exit $?"
stop_clean "startup_signals"

# A10: SIGHUP reloads like SIGUSR1; pmilter keeps running.
new_site sighup 'min_worker = 1'
handler envfrom 'puts "hup v1"'
start_pmilter "$CONF" || fail "sighup: start" "$(cat "$PM_ERR")"
printf 'puts "hup v2"\n' >"$D/handler/envfrom.rb"
kill -HUP "$PM_PID"
if wait_log 10 'reloaded .*new sessions use it' && kill -0 "$PM_PID" 2>/dev/null; then
    pass "sighup: SIGHUP reloads and pmilter keeps running"
else fail "sighup: SIGHUP reloads and pmilter keeps running" "alive=$(kill -0 "$PM_PID" 2>/dev/null && echo yes || echo no); $(tail -2 "$PM_ERR" | tr '\n' ' ')"; fi
"$CLIENT" -s "unix:$SOCK" "$T/signals.eml" >/dev/null 2>&1
out_has "sighup: new sessions run the reloaded handler" "hup v2"
log_has "sighup: the log says SIGHUP means reload" 'received SIGHUP: reloading'
stop_clean "sighup"

# A9: a postconfig handler that never returns during a reload: that reload is
# given up after handler_timeout + 10 s and the next one runs.
new_site reload_bound 'handler_timeout = 1' 'min_worker = 1'
handler envfrom 'puts "bound v1"'
printf 'if File.exist?("%s/hang"); while true; end; end\n' "$D" >"$D/postconfig.rb"
printf '\n[handler.config]\nmruby_postconfig_handler = "postconfig.rb"\n' >>"$CONF"
start_pmilter "$CONF" || fail "reload_bound: start" "$(cat "$PM_ERR")"
touch "$D/hang"
kill -USR1 "$PM_PID"
wait_log 10 'postconfig.rb has run for more than 1 s' || fail "reload_bound: the hanging postconfig is reported" "$(tail -2 "$PM_ERR")"
rm -f "$D/hang"
printf 'puts "bound v2"\n' >"$D/handler/envfrom.rb"
kill -USR1 "$PM_PID"
if wait_log 25 'reloaded .*new sessions use it'; then
    pass "reload_bound: after a reload hung in postconfig, the next SIGUSR1 reloads"
else fail "reload_bound: after a reload hung in postconfig, the next SIGUSR1 reloads" "$(tail -3 "$PM_ERR" | tr '\n' ' ')"; fi
log_has "reload_bound: the hung reload is logged as given up" 'did not finish within 11 s .*given up'
"$CLIENT" -s "unix:$SOCK" "$T/signals.eml" >/dev/null 2>&1
out_has "reload_bound: the later reload's handlers serve" "bound v2"
stop_clean "reload_bound"

# A5: a handler stuck outside any message (connect) does not let SIGTERM cut
# a message in progress on another connection.
new_site drain_stuck 'handler_timeout = 1' 'shutdown_grace = 10'
handler connect 'while true; end if Pmilter::Session.new.client_ipaddr == "192.0.2.66"'
handler eom 'Pmilter::Session::Headers.new["X-Drained"] = "yes"'
start_pmilter "$CONF" || fail "drain_stuck: start" "$(cat "$PM_ERR")"
got=$(python3 - "$SOCK" "$PM_PID" "$PM_ERR" <<'PY'
import os, signal, socket, struct, sys, time
sys.path.insert(0, "test/integration")
from rawclient import frame, reply, letter
def negotiate(s):
    s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); reply(s)
stuck = socket.socket(socket.AF_UNIX); stuck.connect(sys.argv[1]); stuck.settimeout(10)
negotiate(stuck)
stuck.sendall(frame(b"C", b"h\x004\x00\x00192.0.2.66\x00"))
out = ["stuck=" + letter(stuck)]  # the watchdog closes it after handler_timeout
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
negotiate(s)
s.sendall(frame(b"C", b"h\x004\x00\x00192.0.2.1\x00")); out.append("conn=" + letter(s))
s.sendall(frame(b"M", b"<inflight@x>\0"))  # no envfrom handler: MAIL has no reply
time.sleep(0.3)
os.kill(int(sys.argv[2]), signal.SIGTERM); time.sleep(0.5)
try:
    s.sendall(frame(b"E")); r = [letter(s)]
    while r[-1] not in ("c", "a", "t", "r", "closed"): r.append(letter(s))
    out.append("eom=" + "".join(r))
    s.sendall(frame(b"Q"))
except OSError as e:
    out.append("eom=" + type(e).__name__)
print(" ".join(out))
PY
)
[ "$got" = "stuck=closed conn=c eom=hc" ] && pass "drain_stuck: a handler stuck outside any message does not cut a message in flight on SIGTERM" ||
    fail "drain_stuck: a handler stuck outside any message does not cut a message in flight on SIGTERM" "$got"
stop_pmilter
check_sanitizer_clean "drain_stuck: no sanitizer report"
