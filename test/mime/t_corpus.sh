# The corpus against Python's email: per message, the handler's part facts
# equal facts.py's. too-deep-* messages must hit max_depth instead (LimitError).
# test/mime/differences/NAME.facts pins pmilter's facts where they differ on
# purpose (listed in docs/mime.md); MIME_DUMP=DIR keeps every handler's facts.
mime_site corpus
start_pmilter "$CONF" || { fail "mime corpus: start" "pmilter did not start"; return; }
n=0
for mail in test/mime/corpus/*.eml; do
    name="mime corpus: $(basename "$mail" .eml)"
    play "$mail"
    case $mail in
    *too-deep*)
        if grep -q '^LIMIT|.*max_depth' "$NEW"; then pass "$name: LimitError (max_depth)"
        else fail "$name" "no LimitError: $(head -2 "$NEW" | tr '\n' ' ')"; fi
        continue ;;
    esac
    python3 test/mime/facts.py handler <"$NEW" >"$T/got"
    python3 test/mime/facts.py python "$mail" >"$T/want"
    # an intended difference (docs/mime.md): pmilter's facts are pinned instead
    known=test/mime/differences/$(basename "$mail" .eml).facts
    [ -f "$known" ] && cp "$known" "$T/want"
    [ -n "$MIME_DUMP" ] && cp "$T/got" "$MIME_DUMP/$(basename "$mail" .eml).facts"
    if ! grep -q '^DONE$' "$NEW"; then fail "$name" "handler did not finish (status $PLAY_STATUS): $(head -c 300 "$NEW")"
    elif diff -u "$T/want" "$T/got" >"$T/diff"; then pass "$name: $(wc -l <"$T/want") parts as Python's email"; n=$((n + 1))
    else fail "$name" "differs from Python's email (- python, + pmilter): $(grep '^[-+][0-9]' "$T/diff" | head -4 | cut -c1-200 | tr '\n' ' ')"; fi
done
echo "mime corpus: $n messages agree with Python's email"
stop_pmilter
check_sanitizer_clean "mime corpus: no sanitizer report"
