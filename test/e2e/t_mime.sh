# MIME rewriting behind Postfix (instance A, sourced by test/e2e/run.sh): the
# eom handler test/mime/rewrite.rb removes the last attachment (replace!s it
# with a notice where remove! is refused) or appends a note; the message as
# Postfix delivered it must parse cleanly with Python's email (policy=default)
# and keep every other part, decoded and encoded, byte for byte
# (test/mime/rewrite_check.py, SHA-256 of the decoded bodies).
t_mime_rewrite() {
    local mail=$1 f action note
    cp test/mime/rewrite.rb "$FX/mime_rewrite.rb"
    [ "$PM_STARTED" = 1 ] || pm_up "$(pm_conf mime "$SOCK" eom=mime_rewrite.rb)" || return 1
    local before; before=$(wc -l <"$PM_OUT")
    send_ok 1 --from alice@example.com --to bob@example.org --data "$mail" || return 1
    f=$(pf_delivered)
    action=$(tail -n +"$((before + 1))" "$PM_OUT" | sed -n 's/^action \([a-z]*\) \([0-9]*\).*/\1 \2/p' | head -1)
    must "the handler printed no action" [ -n "$action" ] || return 1
    note="-- checked by pmilter"; case $action in replace*) note=$'The attachment was removed.\n' ;; esac
    # shellcheck disable=SC2086
    why=$(python3 test/mime/rewrite_check.py "$mail" "$f" $action "$note") || return 1
    cp "$f" "$T/mime-$(basename "$mail")"
}
for mail in 11-mixed-pdf 16-nested-mixed-alt-related 17-rfc822-forward 24-rfc2047-name-iso-2022-jp \
            10-alternative 03-plain-utf8-8bit 02-plain-no-mime-version 33-malformed-boundary-absent; do
    run_test "mime-rewrite-$mail" t_mime_rewrite "test/mime/corpus/$mail.eml"
done

# A single attachment in a multipart (remove! refused) becomes a notice.
t_mime_replace() {
    printf 'From: a@example.com\nTo: b@example.org\nSubject: only an exe\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="x.exe"\n\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\n--b--\n' >"$T/only-exe.eml"
    t_mime_rewrite "$T/only-exe.eml" || return 1
    local f=$T/mime-only-exe.eml
    must "the delivered message does not show the notice" grep -q '^The attachment was removed.$' "$f" || return 1
    must "the delivered message still has the executable" [ "$(grep -c 'TVqQ' "$f")" = 0 ]
}
run_test mime-replace-single-attachment-with-notice t_mime_replace

# A plain message with a note: Content-Type changed (now UTF-8), MIME-Version added, once each.
t_mime_note_headers() {
    local f=$T/mime-02-plain-no-mime-version.eml
    [ -f "$f" ] || { why="no delivered copy of 02-plain-no-mime-version (see its test)"; return 1; }
    must "Content-Type is not declared UTF-8 once: $(grep -i '^Content-Type' "$f")" \
        [ "$(grep -ci '^Content-Type: text/plain; charset=utf-8$' "$f")" = 1 ] || return 1
    must "MIME-Version is not there once" [ "$(grep -ci '^MIME-Version: 1.0$' "$f")" = 1 ]
}
run_test mime-note-root-headers t_mime_note_headers
pm_stop mime
