# Issue 11 A4: a connection reused after QUIT_NC keeps the generation whose
# handlers were negotiated on it, even across a reload. The MTA does not
# negotiate again, so a newer generation could reject in a phase the MTA was
# told needs no reply (the reject would be lost) or was switched off.
new_site quitnc_reload 'min_worker = 1'
handler envfrom 'x = 1'
handler eom 'puts "eom v1 #{Pmilter::Session.new.envelope_to_all.inspect}"'
start_pmilter "$CONF" || fail "quitnc_reload: start" "$(cat "$PM_ERR")"
got=$(python3 - "$SOCK" "$PM_PID" "$D" "$PM_ERR" <<'PY'
import os, signal, socket, struct, sys, time
sys.path.insert(0, "test/integration")
from rawclient import frame, reply, letter
sock, pid, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
NR_RCPT, NORCPT = 0x8000, 0x8

def negotiate(s):
    s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
    return struct.unpack(">III", reply(s)[1:13])[2]

def message(s, steps, rcpt):
    """MAIL, RCPT and EOM; what came back for RCPT and for EOM."""
    s.sendall(frame(b"M", b"<a@x>\0")); reply(s)
    if steps & NORCPT: r = "off"
    else:
        s.sendall(frame(b"R", rcpt + b"\0"))
        r = "noreply" if steps & NR_RCPT else letter(s)
    if r in ("r", "t"): return "rcpt=" + r
    s.sendall(frame(b"E")); e = letter(s)
    return "rcpt=%s eom=%s" % (r, e)

def reloaded():
    return "new sessions use it" in open(sys.argv[4]).read()

s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(10)
steps = negotiate(s)
out = ["first: " + message(s, steps, b"<one@y>")]
s.sendall(frame(b"K"))  # QUIT_NC: the next session reuses this connection
# Reload: envrcpt now rejects every recipient.
open(d + "/handler/envrcpt.rb", "w").write('Pmilter::Session.new.reject!\n')
conf = open(d + "/pmilter.conf").read()
open(d + "/pmilter.conf", "w").write(conf.replace("[handler.session]", '[handler.session]\nmruby_envrcpt_handler = "handler/envrcpt.rb"'))
open(d + "/handler/eom.rb", "w").write('puts "eom v2 #{Pmilter::Session.new.envelope_to_all.inspect}"\n')
os.kill(pid, signal.SIGUSR1)
for _ in range(100):
    if reloaded(): break
    time.sleep(0.1)
out.append("reused: " + message(s, steps, b"<two@y>"))
s.sendall(frame(b"Q")); s.close()
n = socket.socket(socket.AF_UNIX); n.connect(sock); n.settimeout(10)
out.append("new: " + message(n, negotiate(n), b"<three@y>"))
n.sendall(frame(b"Q"))
print(" | ".join(out))
PY
)
want='first: rcpt=noreply eom=c | reused: rcpt=noreply eom=c | new: rcpt=r'
[ "$got" = "$want" ] && pass "quitnc_reload: after QUIT_NC and a reload the reused connection keeps its negotiated handlers; new connections reject" ||
    fail "quitnc_reload: after QUIT_NC and a reload the reused connection keeps its negotiated handlers; new connections reject" "got '$got', want '$want'"
out_has "quitnc_reload: the reused connection ran the generation negotiated on it" 'eom v1 ["<two@y>"]'
log_has "quitnc_reload: the new connection's reject is logged" 'envrcpt handler answered reject'
stop_clean "quitnc_reload"
