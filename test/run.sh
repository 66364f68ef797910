#!/bin/bash
# Runs every suite (test/<suite>/run.sh, in the order below, then any others)
# and closes with "N passed, N failed, N skipped". A suite reports one line per test:
# "PASS: name" or "FAIL: name: why", or "SKIP: name: why" for a check that
# cannot run in this build (an RSS bound under ASan). A suite that exits non-zero without
# reporting a FAIL counts as one failure, so a crash never passes silently.
# Each test/<suite>/run.sh declares the least number of checks it runs, in a
# line "# checks: N"; a suite that reports fewer PASS+FAIL+SKIP lines, or that has
# no such line, fails once more (so a test that is skipped or lost is seen).
# A suite runs in its own session (setsid), which holds everything it started but
# daemons: when it ends, whatever is left in the session is killed (a stray server
# holding the output pipe once hung make asan-test), and a suite still running after
# SUITE_TIMEOUT seconds is killed and counted as one failure. Suites read /dev/null.
# Environment: PMILTER (binary under test, default ./pmilter), SUITES (names to run),
# SUITE_TIMEOUT (seconds per suite, default 900).
cd "$(dirname "$0")/.." || exit 1
export PMILTER=${PMILTER:-./pmilter}
export BUILD=${BUILD:-build/default}
limit=${SUITE_TIMEOUT:-900}
order="unit integration dns kv metrics mime logs spf auth e2e regexp client fuzz load"
suites=${SUITES:-$(for s in $order; do [ -x test/$s/run.sh ] && echo $s; done
    for d in test/*/run.sh; do s=${d#test/}; s=${s%/run.sh}; case " $order " in *" $s "*) ;; *) echo $s;; esac; done)}
# declared_checks FILE: the N of the file's "# checks: N" line, or nothing.
declared_checks() { sed -n 's/^# checks: *\([0-9][0-9]*\)\([^0-9].*\)\{0,1\}$/\1/p' "$1" 2>/dev/null | head -1; }

work=$(mktemp -d /tmp/pmilter-run.XXXXXX)
sid= timer=
# kill_session SIG: signals every process of the running suite's session (its process
# groups too: a suite may start its own, e.g. through timeout(1)).
kill_session() {
    [ -n "$sid" ] || return 0
    local pids; pids=$(ps -o pid= -s "$sid" 2>/dev/null)
    [ -z "$pids" ] || kill "-$1" $pids 2>/dev/null
}
# Interrupted: the suite's session has no terminal, so Ctrl-C reaches it only through us.
trap 'kill_session KILL; [ -n "$timer" ] && kill "$timer"; rm -rf "$work"; exit 130' INT TERM
trap 'rm -rf "$work"' EXIT

# run_suite NAME OUT: runs test/NAME/run.sh in a session of its own, its output shown
# and kept in OUT; sets rc (its exit status) and timed_out (1 if it was killed for time).
run_suite() {
    local s=$1 out=$2 fifo=$work/out.fifo tee_pid who left i
    mkfifo "$fifo"
    tee "$out" <"$fifo" &
    tee_pid=$!
    # Not a process group leader (no job control here), so setsid execs the suite
    # itself: its pid names the new session.
    setsid "test/$s/run.sh" </dev/null >"$fifo" 2>&1 &
    sid=$!
    sleep "$limit" &
    timer=$!
    wait -n -p who "$sid" "$timer"
    rc=$? timed_out=0
    if [ "$who" = "$sid" ]; then
        kill "$timer" 2>/dev/null; wait "$timer" 2>/dev/null
    else
        kill_session TERM; sleep 2; kill_session KILL
        wait "$sid" 2>/dev/null
        timed_out=1
    fi
    timer=
    # The suite is gone; what it left behind goes too, which closes the pipe (a zombie
    # waiting to be reaped is not left behind).
    left=$(ps -o stat=,pid=,args= -s "$sid" 2>/dev/null | awk '$1 !~ /^Z/ { $1 = ""; print }')
    if [ -n "$left" ]; then
        echo "suite $s left processes running; killed: $(tr -s ' \n' ' ' <<<"$left")"
        kill_session KILL
    fi
    sid=
    # Only a process that left the session (a daemon) can still hold the pipe.
    for ((i = 0; i < 50; i++)); do kill -0 "$tee_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$tee_pid" 2>/dev/null; then
        echo "FAIL: suite $s: a process outside its session holds its output open: pid" \
            $(find /proc/[0-9]*/fd -lname "$fifo" 2>/dev/null | cut -d/ -f3 | sort -u) | tee -a "$out"
        kill "$tee_pid"
    fi
    wait "$tee_pid" 2>/dev/null
    rm -f "$fifo"
}

passed=0 failed=0 skipped=0
for s in $suites; do
    echo "== suite $s"
    out=$work/$s.out
    start=$SECONDS
    run_suite "$s" "$out"
    p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out"); k=$(grep -c '^SKIP: ' "$out"); ran=$((p + f + k))
    if [ "$timed_out" = 1 ]; then
        echo "FAIL: suite $s: killed after $limit s (SUITE_TIMEOUT), still running"; f=$((f + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL: suite $s exited $rc"; f=1
    fi
    want=$(declared_checks "test/$s/run.sh")
    floor_var=CHECKS_$s # a caller that leaves files out on purpose (make tsan-test) sets the suite's floor
    if [ -n "${!floor_var:-}" ]; then want=${!floor_var}; echo "suite $s: floor $want from $floor_var"; fi
    if [ -z "$want" ]; then
        echo "FAIL: suite $s: test/$s/run.sh declares no '# checks: N' line"; f=$((f + 1))
    elif [ "$ran" -lt "$want" ]; then
        echo "FAIL: suite $s: ran $ran checks, expected at least $want"; f=$((f + 1))
    fi
    echo "== suite $s: $p passed, $f failed, $k skipped in $((SECONDS - start)) s"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
