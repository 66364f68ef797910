#!/bin/bash
# Integration tests: ./pmilter on a temporary socket, driven by Debian's
# miltertest (a real milter client speaking the wire protocol). Each test
# asserts what an operator would check: the reply the MTA gets, the
# modification it is asked for, the handler's printed lines, the log line.
# ONLY=t_api runs one file (no count check then: test/run.sh does that).
# SKIP_FILES="t_docs" leaves those files out, one SKIP line each (make tsan-test:
# the caller lowers the suite's floor with CHECKS_integration, test/run.sh).
# checks: 502  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh
command -v miltertest >/dev/null || { fail "integration" "miltertest not installed (scripts/deps.sh)"; exit 1; }
tmpdir
REPO=$PWD
MTLIB=$REPO/test/integration/mtlib.lua

# mt NAME 'lua code': runs it against $SOCK; PASS if it ends without error.
# The output is kept in $MT_OUT for further checks.
mt() {
    local name=$1 code=$2
    MT_OUT=$D/mt-$RANDOM.out
    # miltertest swallows a script's error message: print it before failing.
    printf 'dofile("%s")\nlocal ok, err = pcall(function()\n%s\nend)\nif not ok then print("error: " .. tostring(err)); error(err) end\n' \
        "$MTLIB" "$code" >"$D/t.lua"
    if miltertest -D sock="unix:$SOCK" -s "$D/t.lua" >"$MT_OUT" 2>&1; then
        pass "$name"
    else
        fail "$name" "miltertest exited $?: $(tail -3 "$MT_OUT" | tr '\n' ' ')"
    fi
}
# out_has NAME TEXT: pmilter's stdout has the line TEXT (exactly).
out_has() { if tr -d '\r' <"$PM_OUT" | grep -qxF -- "$2"; then pass "$1"; else fail "$1" "stdout lacks line '$2'"; fi; }
# log_has NAME REGEX: pmilter's stderr matches.
log_has() { if grep -qE -- "$2" "$PM_ERR"; then pass "$1"; else fail "$1" "log lacks /$2/: $(tail -2 "$PM_ERR" | tr '\n' ' ')"; fi; }
# cli NAME WANT_STATUS REGEX ARGS...: runs pmilter ARGS, checks status and
# that stderr+stdout match REGEX.
cli() {
    local name=$1 want=$2 re=$3; shift 3
    local out; out=$("$PMILTER" "$@" 2>&1); local st=$?
    if [ "$st" = "$want" ] && grep -qE -- "$re" <<<"$out"; then pass "$name"
    else fail "$name" "status $st (want $want), output: $(head -3 <<<"$out" | tr '\n' ' ')"; fi
}

stop_clean() {
    stop_pmilter
    if [ "$PM_STATUS" = 0 ]; then pass "$1: exits 0 on SIGTERM"; else fail "$1: exits 0 on SIGTERM" "status $PM_STATUS"; fi
    check_sanitizer_clean "$1: no sanitizer report"
}

# run_file FILE: sources one t_*.sh in this (sub)shell under `set -u`. It stops
# what it started when it ends, and reports a command that does not exist.
run_file() {
    _cleanup_cmds=()
    trap _run_cleanup EXIT
    exec {report_fd}>&1  # the FAIL line reaches the report even from inside $(...)
    command_not_found_handle() { fail "$(basename "$t")" "command not found: $1" >&"$report_fd"; return 127; }
    set -u
    . "$1"
    exit 0
}

# Each file is checked for syntax first and runs in its own subshell, so a
# broken file is a FAIL (naming file and line) and cannot stop the others;
# bash's own message (unbound variable, syntax) goes to stderr as well.
for t in test/integration/${ONLY:-t_*}.sh; do
    name=$(basename "$t")
    case " ${SKIP_FILES:-} " in *" ${name%.sh} "*) echo "SKIP: $name: in SKIP_FILES"; continue ;; esac
    if ! err=$(bash -n "$t" 2>&1); then
        fail "$name: syntax" "$(tr '\n' ' ' <<<"$err")"
        continue
    fi
    (run_file "$t") 2>"$T/stderr.$name"
    rc=$?
    cat "$T/stderr.$name" >&2
    if [ "$rc" -ne 0 ]; then
        fail "$name: ran to its end" "stopped with status $rc: $(grep -m1 -E "(^|/)$name: line [0-9]+:" "$T/stderr.$name")"
    fi
done
suite_exit
