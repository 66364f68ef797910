# README.md and docs/api.md: every example is run as the handler of its
# phase, one message goes through it with pmilter-client, and its verdict and
# output are checked.
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
[ -x "$CLIENT" ] || CLIENT=$REPO/pmilter-client
EX=$T/docs-examples
for doc in README.md docs/api.md; do
    if ! n=$(python3 test/integration/docs_examples.py "$doc" "$EX/$doc"); then
        fail "docs: every ruby block in $doc is a runnable example" "see above"
    else
        pass "docs: every ruby block in $doc is a runnable example ($n)"
        count=$((${count:-0} + n))
    fi
done
cat >"$T/docs.eml" <<'EML'
From: Alice <alice@example.com>
To: Bob <bob@example.org>
Subject: Quarterly report
Received: from a.example by b.example
Received: from c.example by d.example

Hello Bob,
see you.
EML
ran=0
for dir in $(find "$EX" -name meta -printf '%h/\n' | sort -V); do
    phase= verdict= args= client= stdout= line=
    ran=$((ran + 1))
    . "$dir/meta"
    doc=${dir#"$EX"/}; doc=${doc%/*/}
    new_site "doc-${doc//\//-}-$(basename "$dir")"
    cp "$dir/handler.rb" "$D/handler/$phase.rb"
    printf '\n[handler.session]\nmruby_%s_handler = "handler/%s.rb"\n' "$phase" "$phase" >>"$CONF"
    name="docs: $doc:$line ($phase, $verdict)"
    if ! start_pmilter "$CONF"; then fail "$name" "pmilter did not start: $(cat "$PM_ERR")"; continue; fi
    eval "set -- $args"
    out=$("$CLIENT" -s "unix:$SOCK" "$T/docs.eml" "$@" 2>&1)
    st=$?
    stop_pmilter
    case $verdict in continue | accept) want=0 ;; reject | discard) want=1 ;; tempfail) want=2 ;; *) want=x ;; esac
    if [ "$st" != "$want" ]; then
        fail "$name" "client exit $st, want $want: $(tr '\n' ' ' <<<"$out" | tail -c 300) $(tail -2 "$PM_ERR" | tr '\n' ' ')"
    elif ! grep -q "verdict: $verdict" <<<"$out"; then
        fail "$name" "verdict is not $verdict: $(grep '^verdict' <<<"$out")"
    elif [ -n "$client" ] && ! grep -qF -- "$client" <<<"$out"; then
        fail "$name" "client output lacks '$client': $(tr '\n' ' ' <<<"$out" | tail -c 400)"
    elif [ -n "$stdout" ] && ! grep -qF -- "$stdout" "$PM_OUT"; then
        fail "$name" "handler output lacks '$stdout': $(head -c 300 "$PM_OUT") $(tail -1 "$PM_ERR")"
    elif grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$PM_ERR"; then
        fail "$name" "sanitizer report"
    else
        pass "$name"
    fi
done
# An extractor that found nothing, or examples left unrun, must not pass quietly.
[ "$ran" -gt 0 ] && [ "$ran" = "${count:-}" ] && pass "docs: every extracted example ran ($ran)" ||
    fail "docs: every extracted example ran" "ran $ran of ${count:-?}"

# The README's MAIL FROM rule must also match a sender without angle brackets,
# as mail submitted with sendmail(1) arrives.
new_site doc-readme-bare
python3 test/integration/docs_examples.py README.md "$T/readme-bare" >/dev/null
cp "$T/readme-bare/1/handler.rb" "$D/handler/envfrom.rb"
printf '\n[handler.session]\nmruby_envfrom_handler = "handler/envfrom.rb"\n' >>"$CONF"
start_pmilter "$CONF" || fail "docs: README rule" "pmilter did not start"
for from in "<x@bad.test>" "x@bad.test" "x@SPAM.example"; do
    mt "docs: README's MAIL FROM rule rejects $from" "
local conn, r = message({from = '$from'})
expect_reply('envfrom', r.envfrom, SMFIR_REJECT)
mt.disconnect(conn)"
done
mt "docs: README's MAIL FROM rule lets x@bad.test.example through" "
local conn, r = message({from = 'x@bad.test.example'})
expect_reply('envfrom', r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)"
stop_clean "docs: README rule"
