# docs/kv.md's examples, run as written except the greylisting delay (300 s
# there, 3 s here: the early retry must come before it even on a loaded
# machine), against $BACKEND.
B=$BACKEND
python3 test/integration/docs_examples.py docs/kv.md "$T/kvdocs-$B" >/dev/null ||
    fail "kv $B: every ruby block in docs/kv.md is a runnable example" "see above"
grey=$(grep -l '^delay = 300 ' "$T/kvdocs-$B"/*/handler.rb)
rate=$(grep -l 'rate_limit' "$T/kvdocs-$B"/*/handler.rb)
kv_site "greylist-$B" "$B"
sed 's/^delay = 300 /delay = 3 /' "$grey" >"$D/handler/envrcpt.rb"
cp "$rate" "$D/handler/envfrom.rb"
sed -i '/^\[handler.session\]/a mruby_envrcpt_handler = "handler/envrcpt.rb"' "$CONF"
start_pmilter "$CONF" || fail "kv $B greylist: start" "pmilter did not start"
# attempt NAME WANT [client args]: one message from <s@x> to <r@y>.
attempt() {
    local name=$1 want=$2; shift 2
    SENT=$("$CLIENT" -s "unix:$SOCK" --from "<s@x>" --to "<r@y>" "$@" "$T/mail.eml" 2>&1)
    local st=$?
    if [ "$st" = "$want" ]; then pass "kv $B greylist: $name"; else fail "kv $B greylist: $name" "exit $st, want $want: $(tail -2 <<<"$SENT" | tr '\n' ' ')"; fi
}
attempt "the first attempt of a triplet gets a tempfail" 2
if grep -q "450 4.7.1 greylisted" <<<"$SENT"; then pass "kv $B greylist: ... with the 450 greylisted reply"
else fail "kv $B greylist: ... with the 450 greylisted reply" "$(tail -2 <<<"$SENT" | tr '\n' ' ')"; fi
attempt "a retry before the delay still gets a tempfail" 2
sleep 3.2
attempt "a retry after the delay is accepted" 0
attempt "the client is then whitelisted: a new recipient passes at once" 0 --to "<other@y>"
attempt "another client is still greylisted" 2 --client-ip 192.0.2.7
stop_checked "kv $B greylist"
