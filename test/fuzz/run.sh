#!/bin/bash
# Fuzz suite (docs/fuzzing.md).
# 1. Frame-level: $PMILTER (the ASan build under `make fuzz` and `make asan-test`)
#    with handlers for every phase that read every fact (test/fuzz/handler/),
#    attacked by $BUILD/milterfuzz for FUZZ_SECONDS (default 20); then it must
#    still be alive, still serve a normal message, have no sanitizer report in
#    its stderr, and exit 0 on SIGTERM.
# 2. The libFuzzer target for the config loader (build/fuzz/config_fuzz) over
#    test/fuzz/corpus/config for CONFIG_FUZZ_SECONDS (default 15).
# 3. The libFuzzer target for the SPF evaluator (build/fuzz/spf_fuzz) over
#    test/fuzz/corpus/spf for SPF_FUZZ_SECONDS (default 10).
# 4. The libFuzzer target for src/mime (build/fuzz/mime_fuzz: parse, walk,
#    edit, rebuild, parse again) over test/mime/corpus for MIME_FUZZ_SECONDS
#    (default 15), inputs up to 4 KiB.
# Environment: FUZZ_SECONDS, CONFIG_FUZZ_SECONDS, SPF_FUZZ_SECONDS, MIME_FUZZ_SECONDS, FUZZ_SEED (default: random,
# printed), FUZZ_THREADS (default 4), KEEP_TMP=1 keeps the logs.
# checks: 11  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh
BUILD=${BUILD:-build/default}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
CONFIG_FUZZ_SECONDS=${CONFIG_FUZZ_SECONDS:-15}
SPF_FUZZ_SECONDS=${SPF_FUZZ_SECONDS:-10}
MIME_FUZZ_SECONDS=${MIME_FUZZ_SECONDS:-15}
FUZZ_THREADS=${FUZZ_THREADS:-4}
FUZZ_SEED=${FUZZ_SEED:-$(( (RANDOM << 15 | RANDOM) % 1000000000 ))}
MF=$BUILD/milterfuzz
CF=build/fuzz/config_fuzz
CLIENT=$BUILD/pmilter-client
[ -x "$CLIENT" ] || CLIENT=./pmilter-client
tmpdir
REPO=$PWD

# ---- 1. frame-level fuzzing of a running pmilter ----
frame_fuzz() {
    local name="frame fuzz"
    if [ ! -x "$MF" ]; then fail "$name: build" "$MF missing (make test-build)"; return; fi
    if [ ! -x "$CLIENT" ]; then fail "$name: build" "pmilter-client missing (make test-build)"; return; fi
    SOCK=$T/pm.sock
    CONF=$T/pmilter.conf
    local h=$REPO/test/fuzz/handler
    {
        echo '[server]'
        echo "listen = \"$SOCK\""
        echo 'log_level = "warning"'
        echo 'min_worker = 2'
        echo 'max_worker = 16'
        echo '[handler.config]'
        echo "mruby_library = [\"$h/lib/facts.rb\"]"
        echo '[handler.session]'
        for p in connect helo envfrom envrcpt data header eoh body eom abort close unknown; do
            echo "mruby_${p}_handler = \"$h/$p.rb\""
        done
    } >"$CONF"
    if ! start_pmilter "$CONF"; then fail "$name: start" "$(head -3 "$PM_ERR" | tr '\n' ' ')"; return; fi
    echo "frame fuzz: $PMILTER, seed $FUZZ_SEED, $FUZZ_SECONDS s, $FUZZ_THREADS threads (reproduce: FUZZ_SEED=$FUZZ_SEED)"
    # Bounded: the fuzzer stops itself after FUZZ_SECONDS (+10 s for a runaway connection); timeout is the backstop.
    timeout -k 5 $((FUZZ_SECONDS + 60)) "$MF" -s "unix:$SOCK" --seed "$FUZZ_SEED" --seconds "$FUZZ_SECONDS" \
        --threads "$FUZZ_THREADS" --seeds test/fuzz/seeds --log "$T/milterfuzz.log" >"$T/milterfuzz.out" 2>&1
    local rc=$?
    cat "$T/milterfuzz.out"
    if [ $rc = 0 ]; then pass "$name: the fuzzer ran to the end"
    else fail "$name: the fuzzer ran to the end" "exit $rc (seed $FUZZ_SEED): $(grep -m1 -v '^milterfuzz: seed' "$T/milterfuzz.out")"; fi

    if kill -0 "$PM_PID" 2>/dev/null; then
        pass "$name: pmilter is alive"
    else
        fail "$name: pmilter is alive" "it died (seed $FUZZ_SEED); connections in flight:"
        # the last connection each fuzzer thread started is the first suspect
        awk '{last[$2]=$0} END {for (t in last) print "    " last[t]}' "$T/milterfuzz.log"
        grep -m1 -A25 -E 'ERROR: |runtime error' "$PM_ERR" | sed 's/^/    /'
    fi

    printf 'From: <fuzz-after@example.com>\r\nTo: <rcpt@example.org>\r\nSubject: after the fuzzing\r\n\r\nstill here?\r\n' >"$T/after.eml"
    local out
    out=$("$CLIENT" -s "unix:$SOCK" --timeout 10 "$T/after.eml" --json 2>&1)
    if jq -e '.verdict == "continue" and any(.modifications[]; .action == "add_header" and .name == "X-Fuzz-Checked")' \
        <<<"$out" >/dev/null 2>&1; then
        pass "$name: a normal message afterwards gets continue and the eom header"
    else
        fail "$name: a normal message afterwards gets continue and the eom header" "$(head -c 300 <<<"$out")"
    fi

    stop_pmilter
    if [ "${PM_STATUS:-x}" = 0 ]; then pass "$name: exits 0 on SIGTERM"; else fail "$name: exits 0 on SIGTERM" "status ${PM_STATUS:-none}"; fi
    check_sanitizer_clean "$name: no sanitizer report"
    if grep -qE 'panic|Assertion .* failed' "$PM_ERR"; then
        fail "$name: no panic or assertion" "$(grep -m1 -E 'panic|Assertion' "$PM_ERR")"
    else
        pass "$name: no panic or assertion"
    fi
    [ -n "${KEEP_TMP:-}" ] && echo "frame fuzz: logs in $T (milterfuzz.log, $(basename "$PM_ERR"))"
}

# ---- 2. libFuzzer on the config loader ----
config_fuzz() {
    local name="config fuzz"
    if [ ! -x "$CF" ]; then fail "$name: build" "$CF missing (make test-build; needs scripts/packages/fuzz.txt)"; return; fi
    local work=$T/config-corpus
    mkdir -p "$work"
    # Every stored seed first, one by one: a regression seed that crashes names itself.
    local f bad=
    mkdir -p "$T/config-seeds"
    for f in test/fuzz/corpus/config/*; do
        if timeout 30 "$CF" -runs=1 "$f" >"$T/cf-one.out" 2>&1; then cp "$f" "$T/config-seeds/"
        else bad="$bad $(basename "$f")"; grep -m3 -E 'ERROR|Assertion|runtime error' "$T/cf-one.out" | sed 's/^/    /'; fi
    done
    if [ -z "$bad" ]; then pass "$name: every stored seed loads or fails cleanly"
    else fail "$name: every stored seed loads or fails cleanly" "crashed on:$bad"; fi
    # New inputs go to the scratch corpus (first directory), never into the repository. Seeds that
    # crashed above are left out, so that a known crash does not hide new ones.
    timeout -k 5 $((CONFIG_FUZZ_SECONDS + 60)) "$CF" -max_total_time="$CONFIG_FUZZ_SECONDS" -seed="$FUZZ_SEED" \
        -artifact_prefix="$T/" -print_final_stats=1 "$work" "$T/config-seeds" >"$T/cf.out" 2>&1
    local rc=$?
    local runs; runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/cf.out")
    echo "config fuzz: ${runs:-?} executions in ${CONFIG_FUZZ_SECONDS} s (seed $FUZZ_SEED)"
    if [ $rc = 0 ]; then
        pass "$name: no crash in ${runs:-?} runs"
    else
        local art; art=$(ls "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-* 2>/dev/null | head -1)
        fail "$name: no crash in ${runs:-?} runs" "exit $rc; input (base64): $(base64 -w0 "$art" 2>/dev/null); $(grep -m1 -E 'ERROR|Assertion|runtime error' "$T/cf.out")"
        grep -m1 -A12 -E 'ERROR: |Assertion' "$T/cf.out" | sed 's/^/    /'
        [ -n "$art" ] && echo "    keep it: cp $art test/fuzz/corpus/config/regress-NAME.conf"
    fi
}

# ---- 3. libFuzzer on the SPF evaluator (src/auth/spf.c) ----
spf_fuzz() {
    local name="spf fuzz" sf=build/fuzz/spf_fuzz f bad=
    if [ ! -x "$sf" ]; then fail "$name: build" "$sf missing (make test-build; needs scripts/packages/fuzz.txt)"; return; fi
    for f in test/fuzz/corpus/spf/*; do
        timeout 30 "$sf" -runs=1 "$f" >"$T/sf-one.out" 2>&1 || bad="$bad $(basename "$f")"
    done
    if [ -z "$bad" ]; then pass "$name: every stored seed evaluates"; else fail "$name: every stored seed evaluates" "crashed on:$bad"; fi
    mkdir -p "$T/spf-corpus"
    timeout -k 5 $((SPF_FUZZ_SECONDS + 60)) "$sf" -max_total_time="$SPF_FUZZ_SECONDS" -seed="$FUZZ_SEED" \
        -artifact_prefix="$T/" -print_final_stats=1 "$T/spf-corpus" test/fuzz/corpus/spf >"$T/sf.out" 2>&1
    local rc=$? runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/sf.out")
    echo "spf fuzz: ${runs:-?} executions in ${SPF_FUZZ_SECONDS} s (seed $FUZZ_SEED)"
    if [ $rc = 0 ]; then pass "$name: no crash in ${runs:-?} runs"
    else
        local art; art=$(ls "$T"/crash-* "$T"/leak-* "$T"/timeout-* "$T"/oom-* 2>/dev/null | head -1)
        fail "$name: no crash in ${runs:-?} runs" "exit $rc; input (base64): $(base64 -w0 "$art" 2>/dev/null); $(grep -m1 -E 'ERROR|runtime error' "$T/sf.out")"
        grep -m1 -A12 -E 'ERROR: |runtime error' "$T/sf.out" | sed 's/^/    /'
        [ -n "$art" ] && echo "    keep it: cp $art test/fuzz/corpus/spf/regress-NAME"
    fi
}

# ---- 4. libFuzzer on src/mime ----
mime_fuzz() {
    local name="mime fuzz" mf=build/fuzz/mime_fuzz
    if [ ! -x "$mf" ]; then fail "$name: build" "$mf missing (make test-build; needs scripts/packages/fuzz.txt)"; return; fi
    mkdir -p "$T/mime-corpus"
    # G_SLICE: plain malloc for GObjects, so ASan sees GMime objects used after free (mime_fuzz.c)
    G_SLICE=always-malloc timeout -k 5 $((MIME_FUZZ_SECONDS + 60)) "$mf" -max_len=4096 -max_total_time="$MIME_FUZZ_SECONDS" -seed="$FUZZ_SEED" \
        -artifact_prefix="$T/mime-" -print_final_stats=1 "$T/mime-corpus" test/mime/corpus >"$T/mf.out" 2>&1
    local rc=$?
    local runs; runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/mf.out")
    echo "mime fuzz: ${runs:-?} executions in ${MIME_FUZZ_SECONDS} s (seed $FUZZ_SEED)"
    if [ $rc = 0 ]; then
        pass "$name: no crash in ${runs:-?} runs"
    else
        local art; art=$(ls "$T"/mime-crash-* "$T"/mime-leak-* "$T"/mime-timeout-* "$T"/mime-oom-* 2>/dev/null | head -1)
        fail "$name: no crash in ${runs:-?} runs" "exit $rc; input (base64): $(base64 -w0 "$art" 2>/dev/null | head -c 2000); $(grep -m1 -E 'ERROR|Assertion|runtime error' "$T/mf.out")"
        grep -m1 -A12 -E 'ERROR: |Assertion' "$T/mf.out" | sed 's/^/    /'
    fi
}

SECONDS=0
frame_fuzz
config_fuzz
spf_fuzz
mime_fuzz
echo "fuzz suite: ${SECONDS} s"
suite_exit
