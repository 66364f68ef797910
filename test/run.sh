#!/bin/bash
# Runs every suite (test/<suite>/run.sh, in the order below, then any others)
# and closes with "N passed, N failed, N skipped". A suite reports one line per test:
# "PASS: name" or "FAIL: name: why", or "SKIP: name: why" for a check that
# cannot run in this build (an RSS bound under ASan). A suite that exits non-zero without
# reporting a FAIL counts as one failure, so a crash never passes silently.
# Each test/<suite>/run.sh declares the least number of checks it runs, in a
# line "# checks: N"; a suite that reports fewer PASS+FAIL+SKIP lines, or that has
# no such line, fails once more (so a test that is skipped or lost is seen).
# Environment: PMILTER (binary under test, default ./pmilter), SUITES (names to run).
cd "$(dirname "$0")/.." || exit 1
export PMILTER=${PMILTER:-./pmilter}
export BUILD=${BUILD:-build/default}
order="unit integration dns kv metrics mime auth e2e regexp client fuzz load"
suites=${SUITES:-$(for s in $order; do [ -x test/$s/run.sh ] && echo $s; done
    for d in test/*/run.sh; do s=${d#test/}; s=${s%/run.sh}; case " $order " in *" $s "*) ;; *) echo $s;; esac; done)}
# declared_checks FILE: the N of the file's "# checks: N" line, or nothing.
declared_checks() { sed -n 's/^# checks: *\([0-9][0-9]*\)\([^0-9].*\)\{0,1\}$/\1/p' "$1" 2>/dev/null | head -1; }
passed=0 failed=0 skipped=0
for s in $suites; do
    echo "== suite $s"
    out=$(mktemp)
    test/$s/run.sh 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out"); k=$(grep -c '^SKIP: ' "$out"); ran=$((p + f + k))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then echo "FAIL: suite $s exited $rc"; f=1; fi
    want=$(declared_checks "test/$s/run.sh")
    if [ -z "$want" ]; then
        echo "FAIL: suite $s: test/$s/run.sh declares no '# checks: N' line"; f=$((f + 1))
    elif [ "$ran" -lt "$want" ]; then
        echo "FAIL: suite $s: ran $ran checks, expected at least $want"; f=$((f + 1))
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
    rm -f "$out"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
