#!/bin/bash
# Runs every unit test binary built by test/unit/unit.mk, then harness.sh (test/run.sh itself).
# checks: 191  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build/default}
rc=0
for src in test/unit/test_*.c; do
    bin=$BUILD/unit/$(basename "$src" .c)
    if [ ! -x "$bin" ]; then echo "FAIL: $(basename "$src" .c): not built ($bin)"; rc=1; continue; fi
    (cd test/unit && "$OLDPWD/$bin") || rc=1
done
test/unit/harness.sh || rc=1
exit $rc
