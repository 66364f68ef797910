# docs/api.md: every example is run as the handler of its phase, one message
# goes through it with pmilter-client, and its verdict and output are checked.
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
[ -x "$CLIENT" ] || CLIENT=$REPO/pmilter-client
EX=$T/docs-examples
if ! count=$(python3 test/integration/docs_examples.py docs/api.md "$EX"); then
    fail "docs: every ruby block in docs/api.md is a runnable example" "see above"
else
    pass "docs: every ruby block in docs/api.md is a runnable example ($count)"
fi
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
for dir in $(ls -d "$EX"/*/ 2>/dev/null | sort -t/ -k2 -V); do
    phase= verdict= args= client= stdout= line=
    ran=$((ran + 1))
    . "$dir/meta"
    new_site "doc$(basename "$dir")"
    cp "$dir/handler.rb" "$D/handler/$phase.rb"
    printf '\n[handler.session]\nmruby_%s_handler = "handler/%s.rb"\n' "$phase" "$phase" >>"$CONF"
    name="docs: api.md:$line ($phase, $verdict)"
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
