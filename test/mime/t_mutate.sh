# Mutated corpus messages (test/mime/mutate.py, seeded by MIME_SEED, default 1)
# through s.mime: every one gets a verdict (continue, or tempfail from a
# LimitError), pmilter stays up, and no sanitizer report (run the suite with
# the ASan build: PMILTER=build/asan/pmilter).
SEED=${MIME_SEED:-1} COUNT=${MIME_MUTATIONS:-150}
python3 test/mime/mutate.py test/mime/corpus "$T/mutated" "$COUNT" "$SEED"
mime_site mutate
start_pmilter "$CONF" || { fail "mime mutate: start" "pmilter did not start"; return; }
bad=0
for mail in "$T"/mutated/*.eml; do
    play "$mail" --from "<a@example.com>" --to "<b@example.com>"
    case $PLAY_STATUS in 0 | 2) ;; *) bad=$((bad + 1)); echo "mime mutate: $(basename "$mail") (seed $SEED): client status $PLAY_STATUS" ;; esac
done
[ "$bad" = 0 ] && pass "mime mutate: $COUNT mutated messages (seed $SEED) each got continue or tempfail" ||
    fail "mime mutate: seed $SEED" "$bad of $COUNT messages without a verdict"
if kill -0 "$PM_PID" 2>/dev/null; then pass "mime mutate: pmilter still running"; else fail "mime mutate: pmilter still running" "it died: $(tail -3 "$PM_ERR")"; fi
stop_pmilter
check_sanitizer_clean "mime mutate: no sanitizer report"

# The same messages through the rewriting handler (remove!/replace!/append_text_note):
# a verdict for each, and no sanitizer report.
HANDLER=test/mime/rewrite.rb mime_site mutate-rewrite
start_pmilter "$CONF" || { fail "mime mutate rewrite: start" "pmilter did not start"; return; }
bad=0 edited=0
for mail in "$T"/mutated/*.eml; do
    play "$mail" --from "<a@example.com>" --to "<b@example.com>"
    case $PLAY_STATUS in 0 | 2) ;; *) bad=$((bad + 1)); echo "mime mutate rewrite: $(basename "$mail") (seed $SEED): client status $PLAY_STATUS" ;; esac
    grep -q "replace body" "$T/client.out" && edited=$((edited + 1))
done
[ "$bad" = 0 ] && [ "$edited" -gt $((COUNT / 2)) ] && pass "mime mutate rewrite: $COUNT mutated messages (seed $SEED) each got a verdict, $edited rebuilt" ||
    fail "mime mutate rewrite: seed $SEED" "$bad of $COUNT messages without a verdict, $edited rebuilt"
stop_pmilter
check_sanitizer_clean "mime mutate rewrite: no sanitizer report"
