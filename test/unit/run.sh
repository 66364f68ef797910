#!/bin/bash
# Runs every unit test binary built by test/unit/unit.mk, then harness.sh (test/run.sh itself).
# checks: 195  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build/default}
rc=0
for src in test/unit/test_*.c; do
    bin=$BUILD/unit/$(basename "$src" .c)
    if [ ! -x "$bin" ]; then echo "FAIL: $(basename "$src" .c): not built ($bin)"; rc=1; continue; fi
    case $bin in
    # libopendkim's own Ed25519 key leak, suppressed as in test/auth (lsan.supp says why)
    */test_auth) (cd test/unit && LSAN_OPTIONS=suppressions=$OLDPWD/test/auth/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS} \
                      ASAN_OPTIONS=fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS} "$OLDPWD/$bin") || rc=1 ;;
    *) (cd test/unit && "$OLDPWD/$bin") || rc=1 ;;
    esac
done
test/unit/harness.sh || rc=1
exit $rc
