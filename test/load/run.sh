#!/bin/bash
# Load suite: pmilter with handlers at envfrom and eom (eom adds a header) holds
# LOAD_CONNS (default 1000) negotiated, idle MTA connections (test/load/holdconns.py)
# while pmilter-client --load sends messages on LOAD_CLIENTS connections for
# LOAD_SECONDS (default 10). Checks: every held connection is established and
# afterwards still answers a whole message; the load run has zero protocol errors
# and every message got continue; RSS stays under LOAD_RSS_MAX_MIB (default 200;
# the figure is printed); pmilter still serves a normal message and exits 0 on
# SIGTERM with no sanitizer report. Every wait is bounded.
# checks: 9  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh
BUILD=${BUILD:-build/default}
LOAD_CONNS=${LOAD_CONNS:-1000}
LOAD_CLIENTS=${LOAD_CLIENTS:-8}
LOAD_SECONDS=${LOAD_SECONDS:-10}
LOAD_RSS_MAX_MIB=${LOAD_RSS_MAX_MIB:-200}
CLIENT=$BUILD/pmilter-client
[ -x "$CLIENT" ] || CLIENT=./pmilter-client
[ -x "$CLIENT" ] || { fail "load" "pmilter-client missing (make test-build)"; exit 1; }
command -v jq >/dev/null || { fail "load" "jq not installed (scripts/deps.sh)"; exit 1; }
# 1000 held connections + load clients: both pmilter and the helper need the descriptors.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((LOAD_CONNS + 200)) ]; then
    fail "load: ulimit -n" "only $(ulimit -n) descriptors for $LOAD_CONNS connections"; exit 1
fi
# Under AddressSanitizer, freed memory sits in a quarantine of 256 MiB by default, which
# would swamp the figure; a small quarantine keeps RSS about pmilter, not the sanitizer.
if grep -q __asan_init "$PMILTER" 2>/dev/null; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
    echo "load: ASan build: ASAN_OPTIONS=$ASAN_OPTIONS"
fi
tmpdir
SOCK=$T/pm.sock
CONF=$T/pmilter.conf
mkdir -p "$T/handler"
cat >"$T/handler/envfrom.rb" <<'RB'
s = Pmilter::Session.new
Pmilter.status = Pmilter::SMFIS_REJECT if s.envelope_from.to_s =~ /\A<spam@/
RB
cat >"$T/handler/eom.rb" <<'RB'
s = Pmilter::Session.new
Pmilter::Session::Headers.new["X-Load"] = "checked #{s.envelope_from}"
RB
cat >"$CONF" <<EOF
[server]
listen = "$SOCK"
log_level = "warning"
listen_backlog = 1024
[handler.session]
mruby_envfrom_handler = "handler/envfrom.rb"
mruby_eom_handler = "handler/eom.rb"
EOF
start_pmilter "$CONF" || { fail "load: start" "$(head -3 "$PM_ERR" | tr '\n' ' ')"; exit 1; }
echo "load: $PMILTER, $LOAD_CONNS held connections, $LOAD_CLIENTS load clients for $LOAD_SECONDS s"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$PM_PID/status" 2>/dev/null; }
# Samples pmilter's RSS every 0.2 s into $T/rss until the file $T/stop-rss exists.
(while [ ! -e "$T/stop-rss" ] && kill -0 "$PM_PID" 2>/dev/null; do rss_kib >>"$T/rss"; sleep 0.2; done) &
RSS_PID=$!
on_exit "kill $RSS_PID"
SECONDS=0

# 1. Hold the connections (bounded: the helper's socket timeout is 30 s per step).
timeout -k 5 $((LOAD_SECONDS + 240)) python3 test/load/holdconns.py "$SOCK" "$LOAD_CONNS" "$T/go" $((LOAD_SECONDS + 120)) \
    >"$T/hold.out" 2>&1 &
HOLD_PID=$!
on_exit "kill $HOLD_PID"
for ((i = 0; i < 1200; i++)); do
    grep -qE '^(held|FAIL)' "$T/hold.out" 2>/dev/null && break
    kill -0 "$HOLD_PID" 2>/dev/null || break
    sleep 0.1
done
if grep -q '^held' "$T/hold.out"; then
    pass "load: $LOAD_CONNS concurrent negotiated connections are held ($(head -1 "$T/hold.out"))"
else
    fail "load: $LOAD_CONNS concurrent negotiated connections are held" "$(head -3 "$T/hold.out" | tr '\n' ' ')"
fi
held_rss=$(rss_kib)
threads=$(awk '/^Threads:/ {print $2}' "/proc/$PM_PID/status" 2>/dev/null)
fds=$(ls "/proc/$PM_PID/fd" 2>/dev/null | wc -l)
echo "load: while holding: RSS $((${held_rss:-0} / 1024)) MiB, $threads threads, $fds descriptors"

# 2. Load on other connections meanwhile.
timeout -k 5 $((LOAD_SECONDS + 60)) "$CLIENT" --load -s "unix:$SOCK" -c "$LOAD_CLIENTS" -m 100 -t "$LOAD_SECONDS" \
    -b 4000 --headers 10 --timeout 10 --json >"$T/load.json" 2>"$T/load.err"
load_rc=$?
echo "load: pmilter-client: $(jq -c '{messages, connections, msgs_per_sec, latency_ms, errors, first_error, modifications, verdicts}' "$T/load.json" 2>/dev/null || head -c 300 "$T/load.json")"
msgs=$(jq -r '.messages // 0' "$T/load.json" 2>/dev/null)
errs=$(jq -r '.errors // "missing"' "$T/load.json" 2>/dev/null)
cont=$(jq -r '.verdicts.continue // 0' "$T/load.json" 2>/dev/null)
mods=$(jq -r '.modifications // 0' "$T/load.json" 2>/dev/null)
if [ "$load_rc" = 0 ] && [ "$errs" = 0 ] && [ "${msgs:-0}" -gt 0 ]; then
    pass "load: zero protocol errors in $msgs messages"
else
    fail "load: zero protocol errors" "exit $load_rc, errors $errs, messages ${msgs:-?}: $(jq -r .first_error "$T/load.json" 2>/dev/null) $(head -c 200 "$T/load.err")"
fi
if [ "${msgs:-0}" -gt 0 ] && [ "$cont" = "$msgs" ]; then
    pass "load: every message was answered with continue"
else
    fail "load: every message was answered with continue" "$cont of ${msgs:-0}: $(jq -c .verdicts "$T/load.json" 2>/dev/null)"
fi
if [ "${msgs:-0}" -gt 0 ] && [ "$mods" = "$msgs" ]; then
    pass "load: every message got the eom header"
else
    fail "load: every message got the eom header" "$mods modifications for ${msgs:-0} messages"
fi

# 3. Every held connection still answers a whole message.
touch "$T/go"
wait "$HOLD_PID"
hold_rc=$?
echo "load: $(tail -1 "$T/hold.out")"
if [ "$hold_rc" = 0 ]; then pass "load: every held connection answers a message afterwards"
else fail "load: every held connection answers a message afterwards" "$(tail -1 "$T/hold.out")"; fi

touch "$T/stop-rss"
wait "$RSS_PID" 2>/dev/null
max_rss=$(sort -n "$T/rss" 2>/dev/null | tail -1)
max_mib=$(( ${max_rss:-0} / 1024 ))
echo "load: peak RSS $max_mib MiB ($(wc -l <"$T/rss") samples), limit $LOAD_RSS_MAX_MIB MiB"
if [ -n "$max_rss" ] && [ "$max_mib" -le "$LOAD_RSS_MAX_MIB" ]; then pass "load: RSS stays bounded (peak $max_mib MiB)"
else fail "load: RSS stays bounded" "peak ${max_mib} MiB > $LOAD_RSS_MAX_MIB MiB"; fi

# 4. Still serves, then stops cleanly.
printf 'From: <after-load@example.com>\r\nTo: <rcpt@example.org>\r\nSubject: after\r\n\r\nhi\r\n' >"$T/after.eml"
out=$("$CLIENT" -s "unix:$SOCK" --timeout 10 "$T/after.eml" --json 2>&1)
if jq -e '.verdict == "continue" and any(.modifications[]; .name == "X-Load")' <<<"$out" >/dev/null 2>&1; then
    pass "load: a normal message afterwards gets continue and the eom header"
else
    fail "load: a normal message afterwards gets continue and the eom header" "$(head -c 300 <<<"$out")"
fi
stop_pmilter
if [ "${PM_STATUS:-x}" = 0 ]; then pass "load: exits 0 on SIGTERM"; else fail "load: exits 0 on SIGTERM" "status ${PM_STATUS:-none}"; fi
check_sanitizer_clean "load: no sanitizer report"
echo "load suite: ${SECONDS} s"
suite_exit
