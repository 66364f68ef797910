#!/bin/bash
# bench/profile.sh pmilter|baseline CELL [SECS]: instructions per message of the seed scenario
# under valgrind's callgrind, unix socket, CELL as in bench/run.sh ("8x10": 8 connections x 10
# messages each). Counts are taken over SECS seconds (default 4) of pmilter-client load after a
# 1 s warm-up, so start-up is left out; instruction counts do not depend on how busy the machine
# is, unlike msg/s and CPU time. Prints Ir/msg (also without VM creation, when the VM pool grew
# during the measurement) and the top functions by their own instructions per message.
# The profile stays in $PROFILE_OUT (default /tmp/pmilter-profile.<who>.<cell>) for
# callgrind_annotate (--inclusive=yes, --tree=caller). Needs valgrind (a dev tool, not a
# project dependency: apt-get install valgrind).
# Environment: BUILD, PMILTER (as bench/run.sh), TOP (default 25), KV=memory|redis: pmilter
# with bench/kv.sh's rate limit on that backend (redis: a private redis-server on a unix socket).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
REDIS_PID=""
trap 'bench_cleanup; [ -z "$REDIS_PID" ] || kill "$REDIS_PID" 2>/dev/null || true' EXIT
who=${1:?usage: bench/profile.sh pmilter|baseline CELL [SECS]} cell=${2:?CELL, e.g. 8x10} secs=${3:-4}
command -v valgrind >/dev/null || bench_die "valgrind missing (apt-get install valgrind)"
out=${PROFILE_OUT:-/tmp/pmilter-profile.$who.$cell}
rm -f "$out" "$out".*
spec=unix:$BENCH_TMP/profile.sock
vg=(valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no)
case $who in
pmilter)
    bench_conf "$spec" "$BENCH_TMP/profile.conf"
    if [ -n "${KV:-}" ]; then
        redis-server --port 0 --unixsocket "$BENCH_TMP/redis.sock" --save '' --appendonly no >"$BENCH_TMP/redis.log" 2>&1 &
        REDIS_PID=$!
        bench_kv_conf "$spec" "$KV" "$BENCH_TMP/redis.sock" "$BENCH_TMP/profile.conf"
    fi
    "${vg[@]}" "$PMILTER" -c "$BENCH_TMP/profile.conf" >"$BENCH_TMP/profile.log" 2>&1 &
    ;;
baseline) "${vg[@]}" "$BASELINE" "$spec" >"$BENCH_TMP/profile.log" 2>&1 & ;;
*) bench_die "profile: pmilter or baseline, not $who" ;;
esac
pid=$!
BENCH_PIDS="$pid"
for _ in $(seq 1 200); do
    "$CLIENT" --load -s "$spec" -c 1 -m 1 -t 0.05 --json 2>/dev/null | jq -e '.messages > 0' >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat "$BENCH_TMP/profile.log" >&2; bench_die "$who exited under valgrind"; }
    sleep 0.1
done
c=${cell%x*} m=${cell#*x}
"$CLIENT" --load -s "$spec" -c "$c" -m "$m" -t 1 >/dev/null
callgrind_control -z "$pid" >/dev/null
json=$("$CLIENT" --load -s "$spec" -c "$c" -m "$m" -t "$secs" -b 2048 --headers 10 --json)
callgrind_control -d "$pid" >/dev/null
sleep 0.5
n=$(jq .messages <<<"$json")
[ "$n" -gt 0 ] || bench_die "no message went through: $json"
dump=$(ls -t "$out".* | head -1)
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
grew=$(callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | awk '/:pm_vm_new \[/ {gsub(",", "", $1); print $1; exit}')
grew=${grew:-0}
echo "$who $cell: $n messages, $((total / n)) instructions per message ($(((total - grew) / n)) without VM creation); profile $dump"
callgrind_annotate "$dump" 2>/dev/null | awk -v n="$n" -v top="${TOP:-25}" '
    /^-+$/ { rule++; next }
    rule >= 4 && $1 ~ /^[0-9,]+$/ && !/PROGRAM TOTALS/ && shown < top {
        x = $1; gsub(",", "", x); f = $0; sub(/^ *[0-9,]+ *\([^)]*\) */, "", f); sub(/ \[.*\]$/, "", f)
        printf "%8.0f  %s\n", x / n, f; shown++
    }'
