# Reload (SIGUSR1), graceful stop (SIGTERM) and max_sessions, as an operator
# meets them: under load, with a broken handler, with a message in progress.
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
printf 'From: <a@example.com>\nTo: <b@example.org>\nSubject: lifecycle\n\nbody\n' >"$T/life.eml"
# json_field FILE KEY: a number from pmilter-client --json output.
json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d"+sys.argv[2]))' "$1" "$2" 2>/dev/null; }
reloaded() { grep -c 'reloaded .*new sessions use it' "$PM_ERR"; }

new_site reload 'min_worker = 2'
handler envfrom 'puts "handler v1 #{Pmilter::Session.new.envelope_from}"'
handler eom 'Pmilter::Session::Headers.new["X-Version"] = "1"'
start_pmilter "$CONF" || fail "reload: start" "$(cat "$PM_ERR")"
# A connection opened before the reload keeps the generation it started with.
python3 - "$SOCK" "$D/held.out" <<'PY' &
import socket, struct, sys, time
sys.path.insert(0, "test/integration")
from rawclient import frame, reply, letter
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20)
s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); reply(s)
s.sendall(frame(b"M", b"<before@x>\0")); out = [letter(s)]
import os
open(sys.argv[2] + ".ready", "w").close()  # the session has begun: reload now
for _ in range(400):  # until the script has reloaded and sent a new session
    if os.path.exists(sys.argv[2] + ".go"): break
    time.sleep(0.05)
s.sendall(frame(b"M", b"<held@x>\0")); out.append(letter(s))
s.sendall(frame(b"Q")); open(sys.argv[2], "w").write(" ".join(out) + "\n")
PY
held_pid=$!
wait_for test -e "$D/held.out.ready" || fail "reload: the held session began" "no first reply"
printf 'puts "handler v2 #{Pmilter::Session.new.envelope_from}"\n' >"$D/handler/envfrom.rb"
kill -USR1 "$PM_PID"
wait_for grep -q 'reloaded .*new sessions use it' "$PM_ERR" && pass "reload: SIGUSR1 reloads and says so" || fail "reload: SIGUSR1 reloads and says so" "$(tail -3 "$PM_ERR")"
"$CLIENT" -s "unix:$SOCK" "$T/life.eml" --from '<after@x>' >/dev/null 2>&1
out_has "reload: new sessions run the new handler" "handler v2 <after@x>"
touch "$D/held.out.go"
wait "$held_pid"
out_has "reload: a session in flight finishes on the handlers it started with" "handler v1 <held@x>"
printf 'def broken(\n' >"$D/handler/envfrom.rb"
kill -USR1 "$PM_PID"
wait_for grep -q 'reload failed, the running configuration stays: .*handler/envfrom.rb:[12]: syntax error' "$PM_ERR" &&
    pass "reload: a broken handler is refused with file:line" || fail "reload: a broken handler is refused with file:line" "$(tail -2 "$PM_ERR")"
"$CLIENT" -s "unix:$SOCK" "$T/life.eml" --from '<still@x>' >/dev/null 2>&1
out_has "reload: after a failed reload the previous handlers keep serving" "handler v2 <still@x>"
# Reload under continuous load: no message may fail.
printf 'x = 1\n' >"$D/handler/envfrom.rb"
# Each SIGUSR1 is sent once the previous reload is done: signals sent while one
# runs coalesce, and under ASan on a loaded machine a reload can outlast 0.5 s.
reloads_at_least() { [ "$(reloaded)" -ge "$1" ]; }
base=$(reloaded)
"$CLIENT" --load -s "unix:$SOCK" -c 4 -m 10 -t 4 -b 2048 --headers 10 --json >"$D/load.json" 2>&1 &
load_pid=$!
for i in 1 2 3 4 5 6; do sleep 0.3; kill -USR1 "$PM_PID"; wait_for reloads_at_least $((base + i)) || break; done
wait "$load_pid"
msgs=$(json_field "$D/load.json" '["messages"]'); errs=$(json_field "$D/load.json" '["errors"]'); cont=$(json_field "$D/load.json" '["verdicts"]["continue"]')
if [ -n "$msgs" ] && [ "$msgs" -gt 100 ] && [ "$errs" = 0 ] && [ "$cont" = "$msgs" ] && [ "$(reloaded)" -ge $((base + 6)) ]; then
    pass "reload: 6 reloads under load, $msgs messages, 0 failed"
else fail "reload: 6 reloads under load, 0 failed" "messages=$msgs errors=$errs continue=$cont reloads=$(reloaded): $(head -c 300 "$D/load.json")"; fi
stop_clean "reload"

# SIGTERM with a message in progress: it finishes; new sessions get tempfail.
new_site drain 'shutdown_grace = 10'
handler envfrom 'x = 1'
handler eom 'Pmilter::Session::Headers.new["X-Drained"] = "yes"'
start_pmilter "$CONF" || fail "drain: start" "$(cat "$PM_ERR")"
got=$(python3 - "$SOCK" "$PM_PID" <<'PY'
import os, signal, socket, struct, sys, time
sys.path.insert(0, "test/integration")
from rawclient import frame, reply, letter
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); reply(s)
s.sendall(frame(b"M", b"<inflight@x>\0")); out = ["mail=" + letter(s)]
os.kill(int(sys.argv[2]), signal.SIGTERM); time.sleep(0.5)
n = socket.socket(socket.AF_UNIX)
try:
    n.connect(sys.argv[1]); n.settimeout(5)
    n.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); reply(n)
    n.sendall(frame(b"C", b"h\x004\x00\x00192.0.2.9\x00")); out.append("new=" + letter(n))
except OSError as e:
    out.append("new=refused")
s.sendall(frame(b"E")); r = [letter(s)]
while r[-1] not in ("c", "a", "t", "r", "closed"): r.append(letter(s))  # 'h' header actions first
out.append("eom=" + "".join(r))
s.sendall(frame(b"M", b"<next@x>\0")); out.append("next=" + letter(s))
s.sendall(frame(b"Q"))
print(" ".join(out))
PY
)
[ "$got" = "mail=c new=t eom=hc next=t" ] && pass "drain: on SIGTERM the message in progress completes, new sessions and messages get tempfail" ||
    fail "drain: on SIGTERM the message in progress completes, new sessions and messages get tempfail" "$got"
stop_clean "drain"
log_has "drain: the log says what it waited for" 'waiting up to 10 s for 1 message\(s\) in progress'

# SIGTERM under load: every message the client saw accepted was answered fully.
new_site term_load 'shutdown_grace = 10'
handler envfrom 'x = 1'
handler eom 'Pmilter::Session::Headers.new["X-Done"] = "yes"'
start_pmilter "$CONF" || fail "term_load: start" "$(cat "$PM_ERR")"
"$CLIENT" --load -s "unix:$SOCK" -c 8 -m 10 -t 3 -b 2048 --headers 10 --json >"$D/load.json" 2>&1 &
load_pid=$!
sleep 1
stop_pmilter
wait "$load_pid"
msgs=$(json_field "$D/load.json" '["messages"]'); cont=$(json_field "$D/load.json" '["verdicts"]["continue"]'); mods=$(json_field "$D/load.json" '["modifications"]')
if [ "$PM_STATUS" = 0 ] && [ -n "$cont" ] && [ "$cont" -gt 50 ] && [ "$cont" = "$mods" ]; then
    pass "term_load: SIGTERM under load: $cont accepted messages, each answered with its header (exit 0)"
else fail "term_load: SIGTERM under load: every accepted message answered fully" "status=$PM_STATUS messages=$msgs continue=$cont modifications=$mods: $(head -c 300 "$D/load.json")"; fi
check_sanitizer_clean "term_load: no sanitizer report"

# max_sessions: a connection beyond the limit gets tempfail, not a hang.
new_site max_sessions 'max_sessions = 2'
handler envfrom 'x = 1'
start_pmilter "$CONF" || fail "max_sessions: start" "$(cat "$PM_ERR")"
got=$(python3 - "$SOCK" <<'PY'
import socket, struct, sys
sys.path.insert(0, "test/integration")
from rawclient import frame, reply, letter
conns, out = [], []
for i in range(3):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
    s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); neg = reply(s)
    steps = struct.unpack(">III", neg[1:13])[2]
    if not steps & 0x1:  # connect negotiated: the refused one
        s.sendall(frame(b"C", b"h\x004\x00\x00192.0.2.9\x00")); out.append("conn=" + letter(s))
    s.sendall(frame(b"M", b"<m@x>\0")); out.append("mail=" + letter(s))
    conns.append(s)
print(" ".join(out))
PY
)
[ "$got" = "mail=c mail=c conn=t mail=t" ] && pass "max_sessions: the third connection gets tempfail at connect" ||
    fail "max_sessions: the third connection gets tempfail at connect" "$got"
log_has "max_sessions: the limit is logged" 'max_sessions \(2\) reached: answering tempfail'
"$CLIENT" -s "unix:$SOCK" "$T/life.eml" >/dev/null 2>&1 && pass "max_sessions: once they close, new sessions are served" ||
    fail "max_sessions: once they close, new sessions are served" "client exit $?"
stop_clean "max_sessions"

# A session idle after a rejected MAIL FROM has no message in progress: a stop
# does not wait for it. Each message leaves one info line in the log.
new_site idle_stop 'shutdown_grace = 20'
handler envfrom 'Pmilter::Session.new.reject! if Pmilter::Session.new.envelope_from == "<no@x>"'
handler envrcpt 'x = 1'
handler eom 'x = 1'
start_pmilter "$CONF" || fail "idle_stop: start" "$(cat "$PM_ERR")"
"$CLIENT" -s "unix:$SOCK" "$T/life.eml" --from '<yes@x>' --to '<r1@y>' --to '<r2@y>' >/dev/null 2>&1
log_has "log: one line per message with sender, recipients and verdict" 'session [0-9]+, queue [^:]+: message from <yes@x> to 2 recipient\(s\): continue'
python3 - "$SOCK" <<'PY' &
import socket, struct, sys, time
sys.path.insert(0, "test/integration")
from rawclient import frame, reply, letter
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(30)
s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); s.recv(100)
s.sendall(frame(b"M", b"<no@x>\0")); s.recv(100)
time.sleep(25)  # idle, like an SMTP client thinking about its next command
PY
idle_pid=$!
on_exit "kill $idle_pid"
wait_for grep -q 'envfrom handler answered' "$PM_ERR"
log_has "log: a handler's reject is logged with the sender" 'envfrom handler answered reject \(from <no@x>\)'
start=$(date +%s)
stop_clean "idle_stop"
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 10 ] && pass "idle_stop: SIGTERM does not wait for a session idle after a rejected MAIL FROM (${elapsed} s)" ||
    fail "idle_stop: SIGTERM does not wait for a session idle after a rejected MAIL FROM" "took ${elapsed} s"
kill "$idle_pid" 2>/dev/null

# The same with only an eom handler: MAIL FROM is still received (without a
# reply), so the stop knows a message is in progress and waits for it.
new_site drain_eom_only 'shutdown_grace = 10'
handler eom 'Pmilter::Session::Headers.new["X-Drained"] = "yes"'
start_pmilter "$CONF" || fail "drain_eom_only: start" "$(cat "$PM_ERR")"
got=$(python3 - "$SOCK" "$PM_PID" <<'PY'
import os, signal, socket, struct, sys, time
sys.path.insert(0, "test/integration")
from rawclient import frame, reply, letter
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); steps = struct.unpack(">III", reply(s)[1:13])[2]
out = ["mail=" + ("noreply" if steps & 0x4000 else "off" if steps & 0x4 else "reply")]
s.sendall(frame(b"M", b"<inflight@x>\0"))
if out[0] == "mail=reply": reply(s)
time.sleep(0.3)  # MAIL FROM has no reply to wait for: give pmilter time to read it
os.kill(int(sys.argv[2]), signal.SIGTERM); time.sleep(0.5)
s.sendall(frame(b"E")); r = [letter(s)]
while r[-1] not in ("c", "a", "t", "r", "closed"): r.append(letter(s))
out.append("eom=" + "".join(r))
s.sendall(frame(b"Q"))
print(" ".join(out))
PY
)
[ "$got" = "mail=noreply eom=hc" ] && pass "drain: with only an eom handler the message in progress still completes" ||
    fail "drain: with only an eom handler the message in progress still completes" "$got"
stop_clean "drain_eom_only"
