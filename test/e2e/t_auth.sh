# DKIM signing behind Postfix (instance A, sourced by test/e2e/run.sh): pmilter
# signs at eom, with rsa-sha256 and ed25519-sha256 keys, the message Postfix
# received over SMTP, after adding a header of its own; the copy Postfix
# delivers (with its Received and Delivered-To on top) verifies with dkimpy.
source test/auth/lib.sh

t_auth_sign() {
    local d=$FX/auth conf f out
    mkdir -p "$d"
    make_keys "$d"
    printf 'rsa._domainkey.example.com v=DKIM1; k=rsa; p=%s\ned._domainkey.example.com v=DKIM1; k=ed25519; p=%s\n' \
        "$(cat "$d/rsa.pub")" "$(cat "$d/ed.pub")" >"$d/zone.txt"
    conf=$(pm_conf auth-sign "unix:$SOCK" eom=auth_sign.rb)
    printf '\n[dkim.keys.rsa]\nfile = "%s"\n[dkim.keys.ed]\nfile = "%s"\n' "$d/rsa.pem" "$d/ed.pem" >>"$conf"
    cat >"$FX/auth_sign.rb" <<'RUBY'
s = Pmilter::Session.new
Pmilter::Session::Headers.new.change("Subject", "signed end to end, subject rewritten")
s.dkim_sign(domain: "example.com", selector: "rsa", key: "rsa")
s.dkim_sign(domain: "example.com", selector: "ed", key: "ed")
RUBY
    # libopendkim's own Ed25519 key leak (test/auth/lsan.supp), for ASan builds
    # (the slow unwinder lets LSan follow that path through libcrypto)
    LSAN_OPTIONS=suppressions=$REPO/test/auth/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS} \
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0 pm_up "$conf" || return 1
    send_ok 1 --from alice@example.com --to bob@example.org --header "Subject: to be rewritten" \
        --body $'first line\n\n\ttabbed  line with  spaces \nlast line'
    f=$(pf_delivered | head -1)
    must "no rewritten Subject in the delivered copy" grep -q '^Subject: signed end to end, subject rewritten' "$f" || return 1
    must "not two DKIM-Signature headers in the delivered copy" test "$(grep -c '^DKIM-Signature:' "$f")" = 2 || return 1
    out=$(dkimpy_verify "$f" "$d/zone.txt" 2>&1)
    must "dkimpy does not verify the delivered copy: $out" dkimpy_verify "$f" "$d/zone.txt" >/dev/null
}
run_test auth-dkim-sign-rsa-and-ed25519-verified-after-postfix t_auth_sign
pm_stop auth-sign
