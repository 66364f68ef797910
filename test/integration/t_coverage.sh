# Handler API names and phases no other file asserts (issue 12): the verdict
# shortcuts, envelope_to_args, unknown_command, Headers#add, the *_rcpt_to
# aliases, the data, eoh and abort phases, max_headers and max_recipients, and
# shutdown_grace running out. Each check is on what the MTA receives or on a
# line the handler computed from what pmilter gave it.

# raw_reply SCRIPT: the reply letters (and reply texts) rawclient.py received, on one line.
raw_reply() { python3 test/integration/rawclient.py "unix:$SOCK" "$1" 2>&1 | tr '\n' '|'; }

new_site coverage
handler envfrom 's = Pmilter::Session.new
case s.envelope_from
when "<accept@x>" then s.accept!
when "<discard@x>" then s.discard!
when "<continue@x>"
  s.reject!("not this time")
  s.continue!
when "<first@x>"
  s.message_store[:m] = "first"
end
s[:messages] = (s[:messages] || 0) + 1'
handler envrcpt 's = Pmilter::Session.new
puts "rcpt #{s.rcpt_to} args=#{s.envelope_to_args.inspect}"'
handler data 's = Pmilter::Session.new
puts "data from=#{s.envelope_from} rcpts=#{s.envelope_to_all.size}"
s.reject!("no data today") if s.envelope_from == "<data-reject@x>"'
handler eoh 's = Pmilter::Session.new
puts "eoh headers=#{s.headers.map { |n, _| n }.join(",")}"
s.tempfail!("headers later") if s.envelope_from == "<eoh-tempfail@x>"'
handler abort 's = Pmilter::Session.new
puts "abort message_store=#{s.message_store[:m].inspect} messages=#{s[:messages]}"'
handler unknown 's = Pmilter::Session.new
puts "unknown command=[#{s.unknown_command}] message_store=#{s.message_store[:m].inspect}"'
handler eom 's = Pmilter::Session.new
h = Pmilter::Session::Headers.new
h.add("X-Added", "by add #{s.envelope_to_all.size}")
if s.envelope_from == "<alias@x>"
  s.add_rcpt_to("<alias-added@x>", "NOTIFY=NEVER")
  s.delete_rcpt_to("<gone@y>")
end
puts "eom message_store=#{s.message_store[:m].inspect} messages=#{s[:messages]}"'
start_pmilter "$CONF" || fail "coverage: start" "$(cat "$PM_ERR")"

mt "coverage: accept! answers accept" '
local conn, r = message({from = "<accept@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_ACCEPT)
mt.disconnect(conn)'
mt "coverage: discard! answers discard" '
local conn, r = message({from = "<discard@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_DISCARD)
mt.disconnect(conn)'
got=$(raw_reply "neg;mail:<continue@x>;quit")
[ "$got" = "O |c |" ] && pass "coverage: continue! after reject!(text) answers continue, without the text" ||
    fail "coverage: continue! after reject!(text) answers continue, without the text" "$got"

# envelope_to_args and the rcpt_to alias, read at envrcpt.
mt "coverage: a RCPT TO with ESMTP arguments" '
local conn = connect()
step(conn, SMFIP_NOCONNECT, mt.conninfo, "localhost", "127.0.0.1")
expect_reply("mail", step(conn, SMFIP_NOMAIL, mt.mailfrom, "<args@x>"), SMFIR_CONTINUE)
expect_reply("rcpt", step(conn, SMFIP_NORCPT, mt.rcptto, "<r@y>", "NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;r@y"), SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "coverage: envelope_to_args lists the ESMTP arguments, rcpt_to the address" \
    'rcpt <r@y> args=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;r@y"]'

# The data phase: it sees the envelope, and its verdict reaches the MTA with its text.
got=$(python3 - "$SOCK" <<'PY'
import socket, struct, sys
sys.path.insert(0, "test/integration")
from rawclient import frame, reply
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); reply(s)
for f in (frame(b"M", b"<data-reject@x>\0"), frame(b"R", b"<a@y>\0"), frame(b"R", b"<b@y>\0"), frame(b"T")):
    s.sendall(f); r = reply(s)
print(r[:1].decode(), r[1:].rstrip(b"\0").decode())
PY
)
[ "$got" = "y 550 5.7.1 no data today" ] && pass "coverage: reject!(text) in the data phase sends 550 5.7.1 and the text" ||
    fail "coverage: reject!(text) in the data phase sends 550 5.7.1 and the text" "$got"
out_has "coverage: the data handler sees sender and both recipients" "data from=<data-reject@x> rcpts=2"

# The eoh phase: it sees every header, and its verdict reaches the MTA with its text.
got=$(raw_reply "neg;mail:<eoh-tempfail@x>;rcpt:<a@y>;hdr:From:a@x;hdr:Subject:s;hdr:To:a@y;eoh;quit")
# (the headers are negotiated without a reply: only the eoh handler reads them)
[ "$got" = "O |c |c |hdr no reply|hdr no reply|hdr no reply|y 451 4.7.1 headers later|" ] && pass "coverage: tempfail!(text) in the eoh phase sends 451 4.7.1 and the text" ||
    fail "coverage: tempfail!(text) in the eoh phase sends 451 4.7.1 and the text" "$got"
out_has "coverage: the eoh handler sees the headers in order" "eoh headers=From,Subject,To"

# Headers#add, add_rcpt_to and delete_rcpt_to: what the MTA is asked to do at eom.
mt "coverage: Headers#add adds a header at eom" '
local conn, r = message({from = "<plain@x>"})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
expect("X-Added: by add 1 was not added", mt.eom_check(conn, MT_HDRADD, "X-Added", "by add 1"))
mt.disconnect(conn)'
printf 'From: <alias@x>\nTo: <gone@y>, <kept@y>\nSubject: aliases\n\nbody\n' >"$D/alias.eml"
got=$("$REPO/${BUILD:-build/default}/pmilter-client" -s "unix:$SOCK" "$D/alias.eml" 2>&1)
for want in "add rcpt: <alias-added@x> args: NOTIFY=NEVER" "delete rcpt: <gone@y>" "add header: X-Added: by add 2"; do
    if grep -qxF "  $want" <<<"$got"; then pass "coverage: the MTA is asked to $want"
    else fail "coverage: the MTA is asked to $want" "$(tr '\n' '|' <<<"$got")"; fi
done

# abort: the abort handler runs and still sees the message store; after it the
# store is empty (an unknown command after RSET sees that, before any new MAIL
# FROM), the next message starts with an empty one, and the session store stays.
mt "coverage: a message aborted after its headers, then a second one" '
local conn = connect()
step(conn, SMFIP_NOCONNECT, mt.conninfo, "localhost", "127.0.0.1")
expect_reply("mail 1", step(conn, SMFIP_NOMAIL, mt.mailfrom, "<first@x>"), SMFIR_CONTINUE)
expect_reply("rcpt 1", step(conn, SMFIP_NORCPT, mt.rcptto, "<r@y>"), SMFIR_CONTINUE)
expect_reply("header 1", step(conn, SMFIP_NOHDRS, mt.header, "Subject", "one"), SMFIR_CONTINUE)
assert(mt.abort(conn) == nil)
expect_reply("unknown", step(conn, SMFIP_NOUNKNOWN, mt.unknown, "XAFTER abort"), SMFIR_CONTINUE)
local _, r = message({conn = conn, from = "<second@x>"})
expect_reply("eom 2", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "coverage: the abort handler ran and saw the message store" "abort message_store=\"first\" messages=1"
out_has "coverage: right after abort the message store is empty" "unknown command=[XAFTER abort] message_store=nil"
out_has "coverage: the next message has an empty message store, the session store kept" "eom message_store=nil messages=2"

# unknown_command: the command line as the MTA passed it.
mt "coverage: an unknown SMTP command" '
local conn = connect()
step(conn, SMFIP_NOCONNECT, mt.conninfo, "localhost", "127.0.0.1")
expect_reply("unknown", step(conn, SMFIP_NOUNKNOWN, mt.unknown, "XFOO bar baz"), SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "coverage: unknown_command is the command line" "unknown command=[XFOO bar baz] message_store=nil"
stop_clean "coverage"

# max_headers and max_recipients: the lists stop growing at the limit, the
# message itself goes on, and the log says so once per message.
new_site limits 'max_headers = 2' 'max_recipients = 2'
handler envrcpt 'x = 1'
handler header 'x = 1'
handler eom 's = Pmilter::Session.new
puts "limits headers=#{s.headers.map { |n, _| n }.join(",")} to=#{s.envelope_to_all.join(",")}"'
start_pmilter "$CONF" || fail "limits: start" "$(cat "$PM_ERR")"
got=$(raw_reply "neg;mail:<h@x>;rcpt:<a@y>;hdr:H1:1;hdr:H2:2;hdr:H3:3;hdr:H4:4;eoh;eom;quit")
[[ "$got" == *"|c |" ]] &&
    pass "limits: a message with more headers than max_headers is still answered" ||
    fail "limits: a message with more headers than max_headers is still answered" "$got"
out_has "limits: Session#headers stops at max_headers" "limits headers=H1,H2 to=<a@y>"
log_has "limits: max_headers reached is logged" 'session [0-9]+: max_headers \(2\) reached: further headers are not kept for Session#headers'
got=$(raw_reply "neg;mail:<r@x>;rcpt:<r1@y>;rcpt:<r2@y>;rcpt:<r3@y>;rcpt:<r4@y>;hdr:Subject:s;eoh;eom;quit")
[[ "$got" == *"|c |" ]] && pass "limits: a message with more recipients than max_recipients is still answered" ||
    fail "limits: a message with more recipients than max_recipients is still answered" "$got"
out_has "limits: envelope_to_all stops at max_recipients" "limits headers=Subject to=<r1@y>,<r2@y>"
log_has "limits: max_recipients reached is logged" 'session [0-9]+: max_recipients \(2\) reached: further recipients are not kept for envelope_to_all'
n=$(grep -c 'max_headers (2) reached' "$PM_ERR")
[ "$n" = 1 ] && pass "limits: the max_headers line is logged once for the message" || fail "limits: the max_headers line is logged once for the message" "$n lines"
stop_clean "limits"

# shutdown_grace runs out: SIGTERM while a message is open and the MTA side
# sends nothing more. After shutdown_grace seconds pmilter exits 0, logs that
# it stopped with the message unfinished, and the MTA sees the connection close.
new_site grace 'shutdown_grace = 2'
handler envfrom 'x = 1'
handler eom 'x = 1'
start_pmilter "$CONF" || fail "grace: start" "$(cat "$PM_ERR")"
got=$(python3 - "$SOCK" "$PM_PID" <<'PY'
import os, signal, socket, struct, sys, time
sys.path.insert(0, "test/integration")
from rawclient import frame, reply, letter
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(15)
s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); reply(s)
s.sendall(frame(b"M", b"<open@x>\0")); out = ["mail=" + letter(s)]
start = time.time()
os.kill(int(sys.argv[2]), signal.SIGTERM)
try:
    out.append("then=" + letter(s))   # idle: nothing sent, wait for pmilter to close
except socket.timeout:
    out.append("then=timeout")
out.append("after=%d" % round(time.time() - start))
print(" ".join(out))
PY
)
case "$got" in
# Not before the grace; after it, as soon as a loaded machine lets the stop finish (TSan: 4 s).
"mail=c then=closed after="[2-9]) pass "grace: the MTA sees the connection close after shutdown_grace (2 s)" ;;
*) fail "grace: the MTA sees the connection close after shutdown_grace (2 s)" "$got" ;;
esac
stop_clean "grace"
log_has "grace: the log says it waited for the open message" 'waiting up to 2 s for 1 message\(s\) in progress'
log_has "grace: the log says it stopped with the message unfinished" 'stopping with 1 message\(s\) unfinished after 2 s'
