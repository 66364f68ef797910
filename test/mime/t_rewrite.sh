# Rewriting (Part#remove!, #replace!, #append_text_note): every corpus
# message is played by test/mime/mta.py, which applies pmilter's header
# changes and replaced body as an MTA does; rewrite_check.py (Python's
# email) then checks the delivered message: no defects, the edit done, every
# other part unchanged (decoded SHA-256 and encoded bytes).
C=test/mime/corpus
HANDLER=test/mime/rewrite.rb mime_site rewrite
start_pmilter "$CONF" || { fail "mime rewrite: start" "pmilter did not start"; return; }
ok=0 total=0
for mail in "$C"/*.eml; do
    name=$(basename "$mail" .eml)
    case $name in 45-too-deep-40) continue ;; esac # LimitError: no parse to edit (t_api.sh)
    total=$((total + 1))
    before=$(wc -l <"$PM_OUT")
    python3 test/mime/mta.py "unix:$SOCK" "$mail" "$T/$name.out" >"$T/mta.txt"
    verdict=$(head -1 "$T/mta.txt")
    action=$(tail -n +"$((before + 1))" "$PM_OUT" | tr -d '\r' | sed -n 's/^action \([a-z]*\) \([0-9]*\).*/\1 \2/p' | head -1)
    note="-- checked by pmilter"; case $action in replace*) note=$'The attachment was removed.\n' ;; esac
    if [ "$verdict" != c ] || [ -z "$action" ]; then
        fail "mime rewrite $name" "verdict $verdict, action '$action': $(tail -2 "$PM_ERR" | tr '\n' ' ')"
    elif out=$(python3 test/mime/rewrite_check.py "$mail" "$T/$name.out" $action "$note"); then
        ok=$((ok + 1))
    else
        fail "mime rewrite $name ($action)" "$(tr '\n' ' ' <<<"$out")"
    fi
done
[ "$ok" = "$total" ] && pass "mime rewrite: $ok of $total corpus messages rewritten, checked by Python's email"
# An MTA that did not grant body changes (SMFIF_CHGBODY, 0x02): tempfail, logged, nothing half-sent.
before=$(wc -l <"$PM_ERR")
python3 test/mime/mta.py "unix:$SOCK" "$C/11-mixed-pdf.eml" "$T/nochg.out" 1fd >"$T/mta.txt"
if [ "$(head -1 "$T/mta.txt")" = t ] && ! grep -q '^b ' "$T/mta.txt"; then pass "mime rewrite: an MTA that refuses body changes gets tempfail, no body"
else fail "mime rewrite: MTA without body changes" "$(tr '\n' ' ' <"$T/mta.txt")"; fi
if tail -n +"$((before + 1))" "$PM_ERR" | grep -q 'sending the rebuilt MIME message failed: smfi_replacebody failed'; then pass "mime rewrite: the refused body change is logged"
else fail "mime rewrite: the refused body change is logged" "$(tail -2 "$PM_ERR" | tr '\n' ' ')"; fi
stop_pmilter
check_sanitizer_clean "mime rewrite: no sanitizer report"

# eom_code CODE: the site's eom handler becomes CODE (s is the Session).
eom_code() { printf 's = Pmilter::Session.new\n%s\n' "$1" >"$D/handler/eom.rb"; }
client_has() { if grep -qF -- "$2" "$T/client.out"; then pass "$1"; else fail "$1" "client output lacks '$2': $(tr '\n' ' ' <"$T/client.out" | tail -c 400)"; fi; }
client_lacks() { if ! grep -qF -- "$2" "$T/client.out"; then pass "$1"; else fail "$1" "client output has '$2'"; fi; }

# What the MTA is sent, seen by pmilter-client.
mime_site rewrite-headers
eom_code 'if s.mime.content_type == "multipart/alternative"
  s.mime.replace!(content_type: "text/plain", text: "Only this is left: caf\u00e9.\n")
elsif s.mime.attachments.empty?
  s.mime.text_parts.size
else
  s.mime.attachments.each { |p| p.remove! }
  puts "left #{s.mime.each_part.map { |p| p.content_type }.inspect} removed #{s.mime.all_parts.size}"
end'
start_pmilter "$CONF" || { fail "mime rewrite headers: start" "pmilter did not start"; return; }
play $C/10-alternative.eml
client_has "mime replace! on the root: Content-Type changed" "change header Content-Type[1]: text/plain; charset=utf-8"
client_has "mime replace! on the root: Content-Transfer-Encoding added (8-bit text as quoted-printable)" "add header: Content-Transfer-Encoding: quoted-printable"
client_has "mime replace! on the root: the new body is sent" "| Only this is left: caf=C3=A9."
client_lacks "mime replace! on the root: MIME-Version was there, not added again" "add header: MIME-Version"
play $C/11-mixed-pdf.eml
client_has "mime remove!: the body is replaced" "replace body:"
client_lacks "mime remove!: the root's headers are left alone (same boundary)" "change header"
out_has "mime remove!: removed parts leave each_part, the records stay" 'left ["multipart/mixed", "text/plain"] removed 2'
play $C/01-plain-ascii.eml
client_lacks "mime: a message read but not edited is not re-encoded (no replace body)" "replace body"
client_lacks "mime: a message read but not edited keeps its headers" "change header"
stop_pmilter
check_sanitizer_clean "mime rewrite headers: no sanitizer report"

# Misuse raises Pmilter::MIME::EditError (or ArgumentError) with a reason; the mail is never half-edited.
mime_site rewrite-misuse
eom_code 'def try(what)
  yield
  puts "#{what}: ok"
rescue => e
  puts "#{what}: #{e.class}: #{e.message}"
end
m = s.mime
case s.subject
when "root"
  try("root") { m.remove! }
when "twice"
  exe = m.attachments.first
  exe.remove!
  try("twice") { exe.remove! }
  try("replace removed") { exe.replace!(text: "x") }
when "only"
  try("only") { m.parts.first.remove! }
when "bad type"
  try("bad type") { m.parts.last.replace!(content_type: "text/plain; charset=x", text: "x") }
  try("no text") { m.parts.last.replace!(content_type: "text/plain") }
  try("note on a child") { m.parts.first.append_text_note("x") }
when "after replace_body"
  s.replace_body("new body\r\n")
  try("after replace_body") { m.attachments.first.remove! }
when "replace_body after"
  m.attachments.first.remove!
  try("replace_body after") { s.replace_body("x") }
when "raise"
  m.attachments.first.remove!
  raise "handler failed after an edit"
when "reject"
  m.attachments.first.remove!
  s.reject!("no")
else
  try("truncated") { m.attachments.first.remove! }
end'
sed -i 's/^max_body_size = .*/max_body_size = 300/' "$CONF"
start_pmilter "$CONF" || { fail "mime rewrite misuse: start" "pmilter did not start"; return; }
subject_mail() { sed "s/^Subject: .*/Subject: $1/" "$2" >"$T/subject.eml"; play "$T/subject.eml"; }
subject_mail root $C/01-plain-ascii.eml
out_has "mime misuse: remove! on the root" "root: Pmilter::MIME::EditError: Pmilter::MIME::Part#remove!: the message's root part cannot be removed (replace! it, or reject the message)"
subject_mail twice $C/14-name-only.eml
out_has "mime misuse: remove! twice" "twice: Pmilter::MIME::EditError: Pmilter::MIME::Part#remove!: this part was removed or replaced"
out_has "mime misuse: replace! of a removed part" "replace removed: Pmilter::MIME::EditError: Pmilter::MIME::Part#replace!: this part was removed or replaced"
printf 'From: a@example.com\nTo: b@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nalone\n--b--\n' >"$T/only.eml"
subject_mail only "$T/only.eml"
out_has "mime misuse: remove! of a multipart's only part" "only: Pmilter::MIME::EditError: Pmilter::MIME::Part#remove!: removing the only part of a multipart would leave it empty (remove or replace! the multipart instead)"
subject_mail "bad type" $C/14-name-only.eml
out_has "mime misuse: replace! with a bad content_type" 'bad type: Pmilter::MIME::EditError: Pmilter::MIME::Part#replace!: content_type must be "type/subtype", got "text/plain; charset=x"'
out_has "mime misuse: replace! without text:" "no text: ArgumentError: missing keyword: text"
out_has "mime misuse: append_text_note on a child part" "note on a child: Pmilter::MIME::EditError: Pmilter::MIME::Part#append_text_note: call it on the root part (s.mime)"
subject_mail "after replace_body" $C/14-name-only.eml
out_has "mime misuse: an edit after Session#replace_body" "after replace_body: Pmilter::MIME::EditError: Pmilter::MIME::Part#remove!: Session#replace_body was called in this handler"
client_has "mime misuse: only the handler's replace_body reaches the MTA" "replace body: 10 bytes"
subject_mail "replace_body after" $C/14-name-only.eml
out_has "mime misuse: Session#replace_body after an edit" "replace_body after: RuntimeError: Pmilter::Session#replace_body: the message's MIME parts were edited; use one or the other"
client_has "mime misuse: then the rebuilt message alone is sent" "replace body:"
subject_mail raise $C/14-name-only.eml
if [ "$PLAY_STATUS" = 2 ] && ! grep -q "replace body" "$T/client.out"; then pass "mime misuse: a handler that raises after an edit: tempfail, nothing sent"
else fail "mime misuse: raise after an edit" "status $PLAY_STATUS: $(tr '\n' ' ' <"$T/client.out" | tail -c 300)"; fi
subject_mail reject $C/14-name-only.eml
if [ "$PLAY_STATUS" = 1 ] && ! grep -q "replace body" "$T/client.out"; then pass "mime misuse: edits of a rejected message are not sent"
else fail "mime misuse: reject after an edit" "status $PLAY_STATUS: $(tr '\n' ' ' <"$T/client.out" | tail -c 300)"; fi
subject_mail truncated $C/11-mixed-pdf.eml
out_has "mime misuse: an edit of a body cut at max_body_size" "truncated: Pmilter::MIME::EditError: Pmilter::MIME::Part#remove!: the body was cut at max_body_size: a rebuilt message would lose its end"
client_lacks "mime misuse: a cut body is never replaced" "replace body"
stop_pmilter
check_sanitizer_clean "mime rewrite misuse: no sanitizer report"

# Headers cut by max_headers: the root's headers are not all known, so no edit.
mime_site rewrite-headers-cut 'max_headers = 2'
eom_code 'begin
  s.mime.replace!(text: "x")
rescue Pmilter::MIME::EditError => e
  puts "cut: #{e.message}"
end'
start_pmilter "$CONF" || { fail "mime rewrite headers cut: start" "pmilter did not start"; return; }
play $C/14-name-only.eml
out_has "mime misuse: an edit when headers were cut by max_headers" "cut: Pmilter::MIME::Part#replace!: the headers were cut by a limit (they are not all known)"
stop_pmilter
