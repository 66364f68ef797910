# sd_notify (src/core/notify.c) against a test NOTIFY_SOCKET listener, with
# WATCHDOG_USEC set as systemd sets it for WatchdogSec=2: READY=1 once the
# milter socket listens, STATUS lines with sessions and messages, WATCHDOG=1
# pings every second, RELOADING=1/READY=1 around SIGUSR1, STOPPING=1 at
# SIGTERM, in that order. Then the wedged case: libmilter's accept loop runs
# on the main thread; freezing that one thread with ptrace (the others keep
# running, the notify thread included) must stop the pings and say so in
# STATUS, and thawing it must bring them back. Sourced by test/metrics/run.sh.
NOTIFY=$T/notify.sock
"$PY" - "$NOTIFY" >"$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
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
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=2000000 start_pmilter "$CONF" || fail "notify: start" "$(tail -2 "$PM_ERR")"
notified() { grep -q -- "$1" "$T/notify.log"; }
pings() { grep -c 'WATCHDOG=1' "$T/notify.log"; }
check "notify: READY=1 once listening" wait_for notified READY=1
check "notify: WATCHDOG=1 pings with WATCHDOG_USEC set" wait_for notified WATCHDOG=1
send good; send good
check "notify: STATUS counts sessions and messages" wait_for notified 'STATUS=serving: 0 session(s) open, [0-9.]* messages/s, 2 since start'
kill -USR1 "$PM_PID"
check "notify: RELOADING=1 at SIGUSR1" wait_for notified RELOADING=1
check "notify: RELOADING=1 carries MONOTONIC_USEC" grep -qE 'RELOADING=1 MONOTONIC_USEC=[0-9]+' "$T/notify.log"
ready_again() { [ "$(grep -c 'READY=1' "$T/notify.log")" -ge 2 ]; }
check "notify: READY=1 after the reload" wait_for ready_again

# freeze_main PID SECONDS LOG: stops the main thread alone (PTRACE_INTERRUPT)
# for SECONDS, then lets it go; LOG gets "frozen", then "thawed".
freeze_main() {
    exec "$PY" - "$1" "$2" >"$3" 2>&1 <<'PY' # run with &: $! is python itself
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
tid, hold = int(sys.argv[1]), float(sys.argv[2])
PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH, WALL = 0x4206, 0x4207, 17, 0x40000000
for request in (PTRACE_SEIZE, PTRACE_INTERRUPT):
    if libc.ptrace(request, tid, None, None) != 0:
        sys.exit("ptrace: " + os.strerror(ctypes.get_errno()))
os.waitpid(tid, WALL)
print("frozen", flush=True)
time.sleep(hold)
libc.ptrace(PTRACE_DETACH, tid, None, None)
print("thawed", flush=True)
PY
}
# Wedge the accept loop: the main thread, stopped by PTRACE_INTERRUPT for 17 s.
freeze_main "$PM_PID" 17 "$T/freeze.log" &
FREEZE_PID=$!
on_exit "kill $FREEZE_PID"
if wait_for grep -q frozen "$T/freeze.log"; then
    stalled() { notified 'STATUS=accept loop stalled for [0-9]* s; watchdog pings stopped'; }
    # libmilter's listener polls every 5 s; pmilter calls 10 s without a poll a stall.
    for i in $(seq 30); do stalled && break; sleep 0.5; done
    check "notify: a wedged accept loop is reported in STATUS" stalled
    before=$(pings); sleep 3; after=$(pings)
    [ "$before" = "$after" ] && pass "notify: no WATCHDOG=1 while the accept loop is wedged" ||
        fail "notify: no pings while wedged" "$before pings, then $after 3 s later"
    wait "$FREEZE_PID"
    check "notify: the accept loop thawed" grep -q thawed "$T/freeze.log"
    resumed() { [ "$(pings)" -gt "$after" ]; }
    check "notify: pings resume once it serves again" wait_for resumed
    check "notify: and it serves" send good
else
    fail "notify: freeze the accept loop" "$(cat "$T/freeze.log")"
fi
stop_pmilter
wait "$NOTIFY_PID" 2>/dev/null
order=$(grep -oE '^(READY=1|RELOADING=1|STOPPING=1)' "$T/notify.log" | tr '\n' ' ')
[ "$order" = "READY=1 RELOADING=1 READY=1 STOPPING=1 " ] && pass "notify: READY, RELOADING, READY, STOPPING in order" ||
    fail "notify: states in order" "got: $order"
first_ping=$(grep -n 'WATCHDOG=1' "$T/notify.log" | head -1 | cut -d: -f1)
first_ready=$(grep -n 'READY=1' "$T/notify.log" | head -1 | cut -d: -f1)
[ -n "$first_ping" ] && [ "$first_ready" -lt "$first_ping" ] && pass "notify: pings start after READY=1" ||
    fail "notify: pings after READY" "READY at line $first_ready, first ping at ${first_ping:-none}"
check "notify: STATUS line before STOPPING" grep -q 'STATUS=serving' "$T/notify.log"
check_sanitizer_clean "notify: no sanitizer report"

# A stop libmilter cannot finish (src/core/signals.c): its worker pool can
# deadlock on its own mutex at stop. Simulated by freezing the main thread
# (libmilter's listener, which smfi_main returns from) for 12 s: SIGTERM
# drains, libmilter does not return, and 10 s later pmilter ends the stop
# itself and says why, while the thread is still frozen; the exit (status 1)
# completes when ptrace lets the frozen thread go (a thread stuck on a mutex
# would simply die). Without the guard, the thawed listener would stop
# normally: exit 0.
start_pmilter "$CONF" || fail "stuck stop: start" "$(tail -2 "$PM_ERR")"
send good # libmilter serves: its threads run, signals go to its signal thread
freeze_main "$PM_PID" 12 "$T/freeze2.log" &
FREEZE2_PID=$!
on_exit "kill $FREEZE2_PID"
if wait_for grep -q frozen "$T/freeze2.log"; then
    t0=$SECONDS
    kill -TERM "$PM_PID"
    stuck_logged() { grep -q 'libmilter did not finish stopping within 10 s' "$PM_ERR"; }
    for i in $(seq 1 130); do stuck_logged && break; sleep 0.1; done
    t1=$((SECONDS - t0))
    stuck_logged && grep -q frozen "$T/freeze2.log" && ! grep -q thawed "$T/freeze2.log" &&
        pass "stuck stop: ${t1} s after SIGTERM, with libmilter still stuck, pmilter says so and ends the stop" ||
        fail "stuck stop: pmilter ends a stop libmilter cannot finish" "after ${t1} s: $(tail -2 "$PM_ERR" | tr '\n' ' ')"
    wait "$FREEZE2_PID"
    for i in $(seq 1 50); do kill -0 "$PM_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$PM_PID"; st=$?
    PM_PID=
    [ "$st" = 1 ] && pass "stuck stop: exit status 1" || fail "stuck stop: exit status 1" "status $st"
else
    fail "stuck stop: freeze the main thread" "$(cat "$T/freeze2.log")"
fi
kill "$FREEZE2_PID" 2>/dev/null
