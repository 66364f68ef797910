# What Pmilter::Session reports for each kind of client, and the shapes of
# session that real MTAs produce: probes, hang-ups, unknown commands.
new_site session
handler connect 's = Pmilter::Session.new
puts "connect ip=[#{s.client_ipaddr}] host=[#{s.client_hostname}] daemon=[#{s.client_daemon}]"'
handler helo 's = Pmilter::Session.new
facts = %w(cert_issuer cert_subject cipher_bits cipher tls_version auth_type auth_authen auth_author mail_addr rcpt_addr message_id myhostname)
puts "helo #{s.helo_hostname} absent=#{facts.map { |m| s.send(m) }.inspect}"'
handler envfrom 's = Pmilter::Session.new
puts "envfrom #{s.envelope_from} t=#{s.receive_time.class} auth=#{s.auth_type}/#{s.auth_authen}/#{s.auth_author}"'
handler envrcpt '# negotiated so that eom can read envelope_to'
handler body 'puts "body #{Pmilter::Session.new.body_chunk.chomp}"
Pmilter.status = Pmilter::SMFIS_SKIP'
handler eom 's = Pmilter::Session.new
puts "eom from=#{s.envelope_from} to=#{s.envelope_to} rcpt_to=#{s.rcpt_to} age=#{Time.now.to_i - s.receive_time < 60}"'
handler unknown 'puts "unknown #{Pmilter::Session.new.handler_phase_name}"
Pmilter.status = Pmilter::SMFIS_REJECT'
handler close 'puts "close #{Pmilter::Session.new.client_hostname}"'
start_pmilter "$CONF" || fail "session: start" "pmilter did not start"

mt "session: an IPv6 client" '
local conn, r = message({client_ip = "::1", client_host = "ip6-localhost"})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "session: client_ipaddr of an IPv6 client is ::1" "connect ip=[::1] host=[ip6-localhost] daemon=[smtpd]"
mt "session: a client of unknown family" '
local conn, r = message({client_ip = "unspec", client_host = "weird"})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "session: client_ipaddr is empty for an unknown family" "connect ip=[] host=[weird] daemon=[smtpd]"
mt "session: facts the MTA did not send" '
local conn = connect()
assert(mt.conninfo(conn, "bare", "192.0.2.7") == nil)
assert(mt.helo(conn, "bare.example") == nil)
expect_reply("helo", mt.getreply(conn), SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "session: absent macros read as empty strings" 'helo bare.example absent=["", "", "", "", "", "", "", "", "", "", "", ""]'
out_has "session: client_daemon is empty without {daemon_name}" "connect ip=[192.0.2.7] host=[bare] daemon=[]"
mt "session: SASL macros at MAIL FROM" '
local conn = connect()
assert(mt.conninfo(conn, "auth", "192.0.2.8") == nil)
assert(mt.helo(conn, "auth.example") == nil)
mt.macro(conn, SMFIC_MAIL, "{auth_type}", "PLAIN", "{auth_authen}", "taro", "{auth_author}", "hanako")
assert(mt.mailfrom(conn, "<taro@example.com>") == nil)
expect_reply("envfrom", mt.getreply(conn), SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "session: auth_type, auth_authen and auth_author" "envfrom <taro@example.com> t=Integer auth=PLAIN/taro/hanako"
mt "session: SMFIS_SKIP in body skips the rest of the body" '
local conn, r = message({from = "<big@x>", to = "<rcpt@y>", body = {"chunk one\r\n", "chunk two\r\n", "chunk three\r\n"}})
expect_reply("body", r.body, SMFIR_SKIP)
expect_reply("eom", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
if grep -q '^body chunk one' "$PM_OUT" && ! grep -q '^body chunk t' "$PM_OUT"; then
    pass "session: the body handler ran once, not for the skipped chunks"
else fail "session: the body handler ran once, not for the skipped chunks" "$(grep '^body' "$PM_OUT" | tr '\n' ' ')"; fi
out_has "session: eom sees the envelope and a recent receive_time" "eom from=<big@x> to=<rcpt@y> rcpt_to=<rcpt@y> age=true"
mt "session: an unknown SMTP command runs the unknown handler" '
local conn = connect()
assert(mt.conninfo(conn, "unk", "192.0.2.9") == nil)
assert(mt.unknown(conn, "XFOO bar") == nil)
expect_reply("unknown", mt.getreply(conn), SMFIR_REJECT)
mt.disconnect(conn)'
out_has "session: the unknown handler names its phase" "unknown mruby_unknown_handler"
mt "session: a probe connects, negotiates and quits" '
local conn = connect()
assert(mt.negotiate(conn, nil, nil, nil) == nil)
mt.disconnect(conn)'
mt "session: an MTA that hangs up in the middle of a message" '
local conn = connect()
assert(mt.conninfo(conn, "hangup", "192.0.2.10") == nil)
step(conn, SMFIP_NOMAIL, mt.mailfrom, "<gone@x>")
step(conn, SMFIP_NORCPT, mt.rcptto, "<r@y>")
step(conn, SMFIP_NOHDRS, mt.header, "Subject", "half")
mt.disconnect(conn, false)'
mt "session: the server still serves after probes and hang-ups" '
local conn, r = message({from = "<after@x>"})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "session: close runs for a connection that hung up" "close hangup"
stop_clean "session"

# Wire-level cases miltertest cannot produce.
new_site raw
handler connect 's = Pmilter::Session.new
s.macro("{x}"); s.client_daemon
puts "raw connect ip=[#{s.client_ipaddr}] host=[#{s.client_hostname}]"'
handler envfrom 'puts "raw envfrom #{Pmilter::Session.new.envelope_from}"'
start_pmilter "$CONF" || fail "raw: start" "pmilter did not start"
raw() { python3 test/integration/rawclient.py "unix:$SOCK" "$1" 2>&1; }
got=$(raw "neg;connL:localclient:/var/run/mta.sock;mail:<l@x>;quit")
[ "$(tail -1 <<<"$got")" = "c " ] && pass "raw: a unix-socket client (family L) is served" || fail "raw: a unix-socket client (family L) is served" "$got"
out_has "raw: client_ipaddr of a unix-socket client is empty" "raw connect ip=[] host=[localclient]"
raw "close" >/dev/null
raw "raw:00000005;close" >/dev/null
raw "raw:7fffffff4f;close" >/dev/null
raw "neg;raw:0000000258;close" >/dev/null
raw "neg;raw:00000000;close" >/dev/null
raw "mail:<before-negotiation@x>;close" >/dev/null
# A macro list with a name and no value made libmilter's smfi_getsymval read
# past the list (found by the fuzzer): the connect handler reads a macro.
got=$(raw "neg;raw:0000000644437b787d00;conn4:oddmacro.example:192.0.2.45;quit")
[ "$(tail -1 <<<"$got")" = "c " ] && pass "raw: a macro without a value does not crash the server" || fail "raw: a macro without a value does not crash the server" "$got"
out_has "raw: the session with the odd macro list was served" "raw connect ip=[192.0.2.45] host=[oddmacro.example]"
got=$(raw "neg;conn4:after.example:192.0.2.44;mail:<after-garbage@x>;quit")
[ "$(tail -1 <<<"$got")" = "c " ] && pass "raw: served normally after truncated, huge, unknown and out-of-order frames" || fail "raw: served normally after truncated, huge, unknown and out-of-order frames" "$got"
out_has "raw: the session after the garbage saw its sender" "raw envfrom <after-garbage@x>"
stop_clean "raw"
