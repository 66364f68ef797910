#!/bin/bash
# test/run.sh itself, on deliberately broken suites in a scratch tree (a copy of
# test/run.sh beside them): a suite that leaves a sleeping child holding its
# output must not hang the run, and a suite that never ends is killed at
# SUITE_TIMEOUT and counted as failed. Run by test/unit/run.sh.
cd "$(dirname "$0")/../.." || exit 1
source test/lib.sh
tmpdir
mkdir -p "$T/test/stray" "$T/test/slow"
cp test/run.sh "$T/test/run.sh"

# suite NAME BODY: a suite in the scratch tree that declares one check.
suite() { printf '#!/bin/bash\n# checks: 1\n%s\n' "$2" >"$T/test/$1/run.sh"; chmod +x "$T/test/$1/run.sh"; }
# Each child writes its pid, so that this test can see it gone (and stop it if not).
suite stray 'echo "PASS: stray: reported"
sleep 300 & echo $! >'"$T/stray.pid"'
exit 0'
suite slow 'echo "PASS: slow: reported"
sleep 300 & echo $! >'"$T/slow.pid"'
wait'
on_exit 'for p in '"$T"'/*.pid; do kill "$(cat "$p")"; done'

# run_harness SUITE LIMIT: the scratch run.sh, bounded by timeout(1) so a hang fails here
# instead of hanging this suite; sets out, st, took.
run_harness() {
    local start=$SECONDS
    SUITES=$1 SUITE_TIMEOUT=$2 timeout -k 5 60 "$T/test/run.sh" >"$T/$1.out" 2>&1
    st=$? took=$((SECONDS - start)) out=$(cat "$T/$1.out")
}
# gone PIDFILE: the process it names has ended.
gone() { [ -s "$1" ] && ! kill -0 "$(cat "$1")" 2>/dev/null; }

run_harness stray 600
[ "$st" = 0 ] && [ "$took" -lt 30 ] && pass "harness: a suite whose child holds its output open ends the run (${took} s)" ||
    fail "harness: a suite whose child holds its output open ends the run" "exit $st after $took s: $(tail -3 <<<"$out" | tr '\n' ' ')"
[ "$(tail -1 <<<"$out")" = "1 passed, 0 failed, 0 skipped" ] && pass "harness: the stray child's run closes with its count" ||
    fail "harness: the stray child's run closes with its count" "last line: $(tail -1 <<<"$out")"
wait_for gone "$T/stray.pid" && grep -q '^suite stray left processes running; killed: .*sleep 300' <<<"$out" &&
    pass "harness: the stray child is killed and named" ||
    fail "harness: the stray child is killed and named" "pid $(cat "$T/stray.pid") alive or not named: $(tr '\n' ' ' <<<"$out")"

run_harness slow 2
[ "$st" = 1 ] && [ "$took" -lt 30 ] && grep -qx 'FAIL: suite slow: killed after 2 s (SUITE_TIMEOUT), still running' <<<"$out" &&
    pass "harness: a suite past SUITE_TIMEOUT is killed with a FAIL line (${took} s)" ||
    fail "harness: a suite past SUITE_TIMEOUT is killed with a FAIL line" "exit $st after $took s: $(tr '\n' ' ' <<<"$out")"
[ "$(tail -1 <<<"$out")" = "1 passed, 1 failed, 0 skipped" ] && wait_for gone "$T/slow.pid" &&
    pass "harness: the timed-out suite counts as failed and its children are gone" ||
    fail "harness: the timed-out suite counts as failed and its children are gone" "last line: $(tail -1 <<<"$out")"
suite_exit
