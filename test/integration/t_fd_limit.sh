# Issue 11 A7: out of file descriptors. pmilter fits max_sessions to the
# open-file limit (and says so), and when connections still exceed it,
# libmilter's listener does not spin: waiting connections are closed, the
# log says why, and mail flows again once connections close.
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
printf 'From: <a@example.com>\nTo: <b@example.org>\nSubject: fds\n\nbody\n' >"$T/fds.eml"
new_site fd_limit 'min_worker = 1'
handler envfrom 'x = 1'
PM_OUT=$D/out; PM_ERR=$D/err
(ulimit -Sn 64 -Hn 64 && exec "$PMILTER" -c "$CONF" >"$PM_OUT" 2>"$PM_ERR") &
PM_PID=$!
on_exit "kill -9 $PM_PID"
wait_for _listening "unix:$SOCK" "$CONF" || fail "fd_limit: start" "$(cat "$PM_ERR")"
wait_for grep -q 'open-file limit' "$PM_ERR"
log_has "fd_limit: a hard limit below what max_sessions needs is logged, with the sessions it leaves room for" \
    'open-file limit \(64, hard 64\) leaves room for 32 sessions, not max_sessions \(10000\)'
got=$(python3 - "$SOCK" "$PM_PID" <<'PY'
import socket, struct, sys, time
sys.path.insert(0, "test/integration")
from rawclient import frame, reply, letter
pid = int(sys.argv[2])
def cpu_ticks():
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime
conns, answers = [], {}
for i in range(90):  # more connections than 64 descriptors can hold
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3)
    conns.append(s)
for s in conns:
    try:
        s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
        r = reply(s)
        if r[:1] == b"O" and not struct.unpack(">III", r[1:13])[2] & 0x1:
            s.sendall(frame(b"C", b"h\x004\x00\x00192.0.2.9\x00")); r = letter(s)
            k = "refused=" + r
        else:
            k = "served" if r[:1] == b"O" else "closed"
    except socket.timeout:
        k = "no-answer"
    except OSError:
        k = "closed"
    answers[k] = answers.get(k, 0) + 1
t0 = cpu_ticks(); time.sleep(2); used = cpu_ticks() - t0
for s in conns: s.close()
print("cpu=%s %s" % ("low" if used < 40 else "spin(%d ticks)" % used,
                     " ".join("%s:%d" % kv for kv in sorted(answers.items()))))
PY
)
case "$got" in
    cpu=low*served:32*) pass "fd_limit: 90 connections at 64 descriptors: 32 served, the rest refused or closed, none left unanswered, no CPU spin ($got)" ;;
    *) fail "fd_limit: 90 connections at 64 descriptors: none unanswered, no CPU spin" "$got" ;;
esac
case "$got" in *no-answer*) fail "fd_limit: no connection is left without an answer" "$got" ;; *) pass "fd_limit: no connection is left without an answer" ;; esac
log_has "fd_limit: running out of descriptors is logged" 'out of file descriptors .*closed unanswered'
sleep 0.5
"$CLIENT" -s "unix:$SOCK" "$T/fds.eml" >/dev/null 2>&1 && pass "fd_limit: once connections close, a normal message is served" ||
    fail "fd_limit: once connections close, a normal message is served" "client exit $?"
stop_clean "fd_limit"

# A soft limit below what max_sessions needs is raised towards the hard limit.
new_site fd_raise 'min_worker = 1' 'max_sessions = 200'
handler envfrom 'x = 1'
PM_OUT=$D/out; PM_ERR=$D/err
(ulimit -Sn 64 && ulimit -Hn 4096 && exec "$PMILTER" -c "$CONF" >"$PM_OUT" 2>"$PM_ERR") &
PM_PID=$!
on_exit "kill -9 $PM_PID"
wait_for _listening "unix:$SOCK" "$CONF" || fail "fd_raise: start" "$(cat "$PM_ERR")"
wait_for grep -q 'raised the open-file limit' "$PM_ERR"
log_has "fd_raise: the soft open-file limit is raised for max_sessions, and logged" \
    'raised the open-file limit from 64 to 232 for max_sessions \(200\)'
limit=$(awk '/Max open files/ {print $4}' "/proc/$PM_PID/limits")
[ "$limit" = 232 ] && pass "fd_raise: the process's soft limit is 232" || fail "fd_raise: the process's soft limit is 232" "got $limit"
stop_clean "fd_raise"
