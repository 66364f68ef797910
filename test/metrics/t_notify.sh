# sd_notify (src/core/notify.c): a test NOTIFY_SOCKET listener sees READY=1
# after the milter socket listens, RELOADING=1/READY=1 around SIGUSR1 and
# STOPPING=1 at SIGTERM, in that order. Sourced by test/metrics/run.sh.
NOTIFY=$T/notify.sock
"$PY" - "$NOTIFY" >"$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
while True:
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        break
    print(msg.replace("\n", " "), flush=True)
    if "STOPPING=1" in msg:
        break
PY
NOTIFY_PID=$!
on_exit "kill $NOTIFY_PID"
wait_for test -S "$NOTIFY"
metrics_site notify
NOTIFY_SOCKET=$NOTIFY start_pmilter "$CONF" || fail "notify: start" "$(tail -2 "$PM_ERR")"
notified() { grep -q "$1" "$T/notify.log"; }
check "notify: READY=1 once listening" wait_for notified READY=1
kill -USR1 "$PM_PID"
check "notify: RELOADING=1 at SIGUSR1" wait_for notified RELOADING=1
check "notify: RELOADING=1 carries MONOTONIC_USEC" grep -qE 'RELOADING=1 MONOTONIC_USEC=[0-9]+' "$T/notify.log"
ready_again() { [ "$(grep -c 'READY=1' "$T/notify.log")" -ge 2 ]; }
check "notify: READY=1 after the reload" wait_for ready_again
stop_pmilter
wait "$NOTIFY_PID" 2>/dev/null
order=$(sed -E 's/^(READY=1|RELOADING=1|STOPPING=1).*/\1/' "$T/notify.log" | tr '\n' ' ')
[ "$order" = "READY=1 RELOADING=1 READY=1 STOPPING=1 " ] && pass "notify: READY, RELOADING, READY, STOPPING in order" ||
    fail "notify: states in order" "got: $order"
