# docs/mime.md's recipes, each run as the eom handler against the corpus
# message its example line names first in args (the rest are client args);
# verdict, client output and handler output checked.
EX=$T/mime-docs
if n=$(python3 test/integration/docs_examples.py docs/mime.md "$EX"); then pass "mime docs: every ruby block is an example ($n)"
else fail "mime docs: every ruby block is an example" "see above"; fi
for dir in $(find "$EX" -name meta -printf '%h/\n' | sort -V); do
    phase= verdict= args= client= stdout= line=
    . "$dir/meta"
    HANDLER=$dir/handler.rb mime_site "docs-$(basename "$dir")"
    name="mime docs: docs/mime.md:$line ($verdict)"
    start_pmilter "$CONF" || { fail "$name" "pmilter did not start: $(cat "$PM_ERR")"; continue; }
    eval "set -- $args"
    mail=test/mime/corpus/$1; shift
    out=$("$CLIENT" -s "unix:$SOCK" "$mail" "$@" 2>&1)
    stop_pmilter
    if ! grep -q "verdict: $verdict" <<<"$out"; then fail "$name" "verdict: $(grep '^verdict' <<<"$out") $(tail -2 "$PM_ERR" | tr '\n' ' ')"
    elif [ -n "$client" ] && ! grep -qF -- "$client" <<<"$out"; then fail "$name" "client output lacks '$client': $(tr '\n' ' ' <<<"$out" | tail -c 300)"
    elif [ -n "$stdout" ] && ! grep -qF -- "$stdout" "$PM_OUT"; then fail "$name" "handler output lacks '$stdout': $(head -c 300 "$PM_OUT")"
    else pass "$name"; fi
done
