#!/bin/bash
# make soak [SOAK_N=N]: N messages (default 1,000,000) through pmilter with bench/pmilter-bench.conf
# (8 connections x 10 messages, 10 headers, 2 KiB body, unix socket; every 10th batch from
# <spam-from@example.com> so the reject path runs too). Samples pmilter's VmRSS at the start,
# about every 100k messages and at the end, and flags growth after the first 100k (warm-up:
# glibc arenas, VM heaps, libmilter workers). Not part of `make bench`.
# Usage: bench/soak.sh [N]; environment: BUILD, PMILTER, SOAK_CONNS (8), SOAK_MSGS (10),
# SOAK_SERVER=baseline to soak bench/baseline.c instead (a reference for what libmilter itself does).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
trap bench_cleanup EXIT
N=${1:-1000000}
C=${SOAK_CONNS:-8}
M=${SOAK_MSGS:-10}
spec=unix:$BENCH_TMP/soak.sock
server=${SOAK_SERVER:-pmilter}
# pmilter logs "vm pool grew to N VMs" at debug level and nothing per message: count them.
export BENCH_LOG_LEVEL=debug
# One VM per connection from the start: the pool's growth up to that (bounded
# by max_worker, not a leak) would otherwise show up as RSS growth.
export BENCH_MIN_WORKER=$C
vms() { [ "$server" = pmilter ] && grep -o 'vm pool grew to [0-9]*' "$BENCH_TMP/pmilter.log" | tail -1 | awk '{print $5}' | grep . || echo min; }
case $server in
pmilter) bench_start_pmilter "$spec" ;;
baseline) bench_start_baseline "$spec" ;;
*) bench_die "SOAK_SERVER: pmilter or baseline, not $server" ;;
esac
pid=$STARTED_PID
start=$(date +%s)
rss=$(bench_status "$pid" VmRSS)
echo "soak: $N messages through $server (pid $pid), $C conns x $M msgs/conn, sampling VmRSS"
printf '%10s %10s %8s %8s %8s\n' messages 'RSS KiB' threads VMs seconds
printf '%10d %10d %8d %8s %8d\n' 0 "$rss" "$(bench_status "$pid" Threads)" "$(vms)" 0
samples="0:$rss"
done_msgs=0 next=100000 batch=0 errors=0
while [ "$done_msgs" -lt "$N" ]; do
    batch=$((batch + 1))
    from='<load-from@example.com>'
    [ $((batch % 10)) -eq 0 ] && from='<spam-from@example.com>'
    json=$("$CLIENT" --load -s "$spec" -c "$C" -m "$M" -t 1 -b 2048 --headers 10 --from "$from" --json) ||
        bench_die "load client failed: $json"
    kill -0 "$pid" 2>/dev/null || bench_die "$server (pid $pid) died after $done_msgs messages"
    set -- $(echo "$json" | jq -r '"\(.messages) \(.errors + .verdicts.tempfail)"')
    done_msgs=$((done_msgs + $1))
    errors=$((errors + $2))
    if [ "$done_msgs" -ge "$next" ] || [ "$done_msgs" -ge "$N" ]; then
        rss=$(bench_status "$pid" VmRSS)
        printf '%10d %10d %8d %8s %8d\n' "$done_msgs" "$rss" "$(bench_status "$pid" Threads)" "$(vms)" $(($(date +%s) - start))
        samples="$samples $done_msgs:$rss"
        while [ "$next" -le "$done_msgs" ]; do next=$((next + 100000)); done
    fi
done
elapsed=$(($(date +%s) - start))
echo "soak: $done_msgs messages in ${elapsed}s, $errors errors/tempfails"
# Growth: last sample against the first one at or after 100k messages (or the start, for short runs).
echo "$samples" | tr ' ' '\n' | awk -F: '
    { n++; m[n] = $1; r[n] = $2 }
    END {
        ref = 1; for (i = 1; i <= n; i++) if (m[i] >= 100000) { ref = i; break }
        if (ref == n) ref = 1
        grow = r[n] - r[ref]
        printf "soak: RSS %d KiB at %d messages -> %d KiB at %d messages (%+d KiB)\n", r[ref], m[ref], r[n], m[n], grow
        if (grow > 1024 && grow > r[ref] * 0.05) { print "soak: GROWTH: RSS grew by more than 1 MiB and 5% after warm-up"; exit 1 }
        print "soak: no RSS growth after warm-up (threshold: 1 MiB and 5%)"
    }'
[ "$errors" -eq 0 ] || bench_die "$errors messages failed"
