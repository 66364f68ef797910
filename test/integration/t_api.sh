# The full handler API (docs/api.md), checked on the wire with miltertest:
# the reply and the modification requests the MTA receives.
new_site api 'max_body_size = 64'
handler envrcpt 's = Pmilter::Session.new
s.reject!("no such user here") if s.envelope_to == "<nobody@x>"
s.set_reply("450", "4.2.0", "mailbox busy", "come back later") if s.envelope_to == "<busy@x>"
Pmilter.status = Pmilter::SMFIS_TEMPFAIL if s.envelope_to == "<busy@x>"
s.set_reply("250") if s.envelope_to == "<badcode@x>"
if s.envelope_to == "<mismatch@x>"
  s.set_reply("550", "5.7.1", "five")
  s.tempfail!
end
s.message_store[:n] = (s.message_store[:n] || 0) + 1
s[:rcpt_seen] = (s[:rcpt_seen] || 0) + 1'
handler eom 's = Pmilter::Session.new
h = Pmilter::Session::Headers.new
puts "eom all=#{s.envelope_to_all.inspect} n=#{s.message_store[:n]} conn=#{s[:rcpt_seen]} trunc=#{s.body_truncated?} size=#{s.body.size} msize=#{s.message_size}"
case s.envelope_from
when "<hdr@x>"
  h.insert(0, "X-First", "1")
  h.change("Subject", "changed")
  h.delete("X-Old")
when "<rcpt@x>"
  s.delete_envelope_to("<bob@y>")
when "<body@x>"
  s.replace_body("new body\r\n")
when "<bigbody@x>"
  s.replace_body("x" * (3 * 1024 * 1024))
when "<quarantine@x>"
  s.quarantine("held for review")
when "<reply@x>"
  s.tempfail!("scanner unavailable")
when "<badheader@x>"
  h.change("Subject", "a\nb")
end'
handler body 'Pmilter.status = Pmilter::SMFIS_SKIP'
start_pmilter "$CONF" || fail "api: start" "$(cat "$PM_ERR")"
# reply_is NAME STEPS WANT: the last reply rawclient.py gets for STEPS is WANT
# ("y CODE TEXT", lines joined with |): miltertest's getreply has only the code.
reply_is() {
    local got
    got=$(python3 test/integration/rawclient.py "unix:$SOCK" "$2" 2>&1 | tr -d '\r' | tr '\n' '|')
    got=${got%|}
    got="y ${got##*|y }"  # the last reply-code reply; its text may span lines
    if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "got '$got', want '$3'"; fi
}

mt "api: reject!(text) sends 550 5.7.1 text" '
local conn, r = message({to = "<nobody@x>"})
expect_reply("envrcpt", r.envrcpt, SMFIR_REPLYCODE)
mt.disconnect(conn)'
reply_is "api: reject!(text) at envrcpt: the MTA gets the text" "neg;mail:<f@x>;rcpt:<nobody@x>;quit" "y 550 5.7.1 no such user here"
mt "api: set_reply with two lines sends a multi-line 450 reply" '
local conn, r = message({to = "<busy@x>"})
expect_reply("envrcpt", r.envrcpt, SMFIR_REPLYCODE)
mt.disconnect(conn)'
reply_is "api: set_reply with two lines: the MTA gets both lines" "neg;mail:<f@x>;rcpt:<busy@x>;quit" \
    "y 450-4.2.0 mailbox busy|450 4.2.0 come back later"
mt "api: a reply code that is not 4xx/5xx raises (tempfail)" '
local conn, r = message({to = "<badcode@x>"})
expect_reply("envrcpt", r.envrcpt, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "api: the bad reply code is named" 'set_reply: reply code must be 4xx or 5xx, got \\"250\\" \(ArgumentError\)|reply code must be 4xx or 5xx, got "250" \(ArgumentError\)'
mt "api: a 5xx reply with a tempfail verdict raises" '
local conn, r = message({to = "<mismatch@x>"})
expect_reply("envrcpt", r.envrcpt, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "api: the mismatch is explained" 'reply code 550 does not match the tempfail verdict'
mt "api: tempfail!(text) at eom sends the reply" '
local conn, r = message({from = "<reply@x>"})
expect_reply("eom", r.eom, SMFIR_REPLYCODE)
expect("reply text", mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1", "scanner unavailable"))
mt.disconnect(conn)'
mt "api: insert, change and delete headers" '
local conn, r = message({from = "<hdr@x>", headers = {{"Subject", "old"}, {"X-Old", "1"}}})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
expect("insert X-First at 0", mt.eom_check(conn, MT_HDRINSERT, "X-First", "1", 0))
expect("change Subject", mt.eom_check(conn, MT_HDRCHANGE, "Subject", "changed"))
expect("delete X-Old", mt.eom_check(conn, MT_HDRDELETE, "X-Old"))
mt.disconnect(conn)'
mt "api: delete_envelope_to removes a recipient" '
local conn, r = message({from = "<rcpt@x>", to = "<bob@y>"})
expect("delete rcpt", mt.eom_check(conn, MT_RCPTDELETE, "<bob@y>"))
mt.disconnect(conn)'
mt "api: replace_body sends the new body" '
local conn, r = message({from = "<body@x>"})
expect("body replaced", mt.eom_check(conn, MT_BODYCHANGE, "new body\r\n"))
mt.disconnect(conn)'
# miltertest crashes on a multi-megabyte body change; our own client reads it.
printf 'From: <bigbody@x>\nTo: <b@y>\nSubject: big\n\nsmall body\n' >"$D/big.eml"
got=$("$REPO/${BUILD:-build/default}/pmilter-client" -s "unix:$SOCK" "$D/big.eml" 2>&1)
if grep -q "replace body: 3145728 bytes" <<<"$got"; then pass "api: replace_body with 3 MiB goes through in chunks"
else fail "api: replace_body with 3 MiB goes through in chunks" "$(tr '\n' ' ' <<<"$got" | tail -c 300)"; fi
mt "api: quarantine(reason)" '
local conn, r = message({from = "<quarantine@x>"})
expect("quarantined", mt.eom_check(conn, MT_QUARANTINE, "held for review"))
mt.disconnect(conn)'
mt "api: a header value with a bare newline raises (tempfail)" '
local conn, r = message({from = "<badheader@x>"})
expect_reply("eom", r.eom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
mt "api: stores, recipients and a body over max_body_size" '
local conn = connect()
step(conn, SMFIP_NOCONNECT, mt.conninfo, "s", "192.0.2.1")
local _, r = message({conn = conn, from = "<one@x>", to = "<a@y>", body = {string.rep("b", 100) .. "\r\n"}})
step(conn, SMFIP_NOMAIL, mt.mailfrom, "<two@x>")
expect_reply("rcpt <nobody@x>", step(conn, SMFIP_NORCPT, mt.rcptto, "<nobody@x>"), SMFIR_REPLYCODE)
local _, r2 = message({conn = conn, from = "<two@x>", to = "<c@y>", skip_mail = true})
mt.disconnect(conn)'
out_has "api: body kept up to max_body_size and body_truncated? set" "eom all=[\"<a@y>\"] n=1 conn=1 trunc=true size=64 msize=149"
out_has "api: a rejected recipient is not in envelope_to_all; message_store is per message, session store per connection" "eom all=[\"<c@y>\"] n=2 conn=3 trunc=false size=15 msize=62"
mt "api: a new connection starts with an empty session store" '
local conn, r = message({from = "<fresh@x>", to = "<d@y>"})
mt.disconnect(conn)'
out_has "api: no store leaks between sessions" "eom all=[\"<d@y>\"] n=1 conn=1 trunc=false size=15 msize=62"
# miltertest always offers SMFIP_SKIP; the wire-level client can leave it out.
got=$(python3 test/integration/rawclient.py "unix:$SOCK" "neg:$(printf %x $((0x1fffff & ~0x400)));mail:<noskip@x>;rcpt:<r@y>;body:one;body:two;eom;quit" 2>&1)
if [ "$(sed -n 's/^\([A-Za-z]\) .*/\1/p' <<<"$got" | tr -d '\n')" = "Occcc" ]; then
    pass "api: SMFIS_SKIP is answered as continue to an MTA that did not offer SMFIP_SKIP"
else fail "api: SMFIS_SKIP is answered as continue to an MTA that did not offer SMFIP_SKIP" "$(tr '\n' ' ' <<<"$got")"; fi
got=$(python3 test/integration/rawclient.py "unix:$SOCK" "neg;mail:<skip@x>;rcpt:<r@y>;body:one;body:two;eom;quit" 2>&1)
if grep -q '^s' <<<"$got"; then pass "api: SMFIS_SKIP reaches an MTA that offered it"
else fail "api: SMFIS_SKIP reaches an MTA that offered it" "$(tr '\n' ' ' <<<"$got")"; fi
stop_clean "api"

# [server] macros.<stage> asks the MTA for extra macros (smfi_setsymlist).
new_site macros
sed -i '/^\[server\]/a macros.envfrom = ["{auth_type}", "i"]\nmacros.connect = ["{client_addr}"]' "$CONF"
handler envfrom 's = Pmilter::Session.new
puts "macros auth=#{s.macro("auth_type")} mail_addr=[#{s.macro("{mail_addr}")}] client=#{s.macro("client_addr")}"'
start_pmilter "$CONF" || fail "macros: start" "$(cat "$PM_ERR")"
MT_OUT=$D/client.out
printf 'From: <a@x>\nTo: <b@y>\nSubject: m\n\nbody\n' >"$D/m.eml"
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
"$CLIENT" -s "unix:$SOCK" "$D/m.eml" --macro 'envfrom:{auth_type}=LOGIN' >"$MT_OUT" 2>&1
out_has "macros: only the requested macros are sent, and macro() reads them" "macros auth=LOGIN mail_addr=[] client=127.0.0.1"
stop_clean "macros"

# reject! then tempfail!(text): the text decides, no contradiction raised;
# a NUL in a reply line is an ArgumentError, not a leak or a crash.
new_site reply_order
handler envfrom 's = Pmilter::Session.new
if s.envelope_from == "<order@x>"
  s.reject!
  s.tempfail!("busy now")
elsif s.envelope_from == "<nul@x>"
  s.set_reply("550", "5.7.1", "bad\0line")
end'
start_pmilter "$CONF" || fail "reply_order: start" "$(cat "$PM_ERR")"
mt "api: reject! then tempfail!(text) answers 451 with the text" '
local conn, r = message({from = "<order@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_REPLYCODE)
mt.disconnect(conn)'
reply_is "api: reject! then tempfail!(text): the MTA gets the text" "neg;mail:<order@x>;quit" "y 451 4.7.1 busy now"
mt "api: a NUL in a reply line raises (tempfail)" '
local conn, r = message({from = "<nul@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "api: the NUL is named" 'reply lines must be Strings without NUL \(ArgumentError\)'
stop_clean "reply_order"
