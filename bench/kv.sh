#!/bin/bash
# make bench-kv: the rate-limit scenario of docs/kv.md against the seed scenario. Three
# pmilters on unix sockets, measured interleaved (seed, memory, redis per round): the seed
# (bench/pmilter-bench.conf as is), and the same plus one Pmilter::KV.incr with a TTL per
# message at MAIL FROM, on the memory backend and on a private Redis over a unix socket.
# Prints median msg/s and the ratios to the seed (targets: memory >= 0.90, redis >= 0.70),
# and the median server CPU per message (pmilter's utime+stime from /proc; for redis, also
# redis-server's), which varies less than msg/s on a shared machine.
# Environment: ROUNDS (default 3), SECS per measurement (default 2), BUILD, PMILTER.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
REDIS_PID=""
trap 'bench_cleanup; [ -z "$REDIS_PID" ] || kill "$REDIS_PID" 2>/dev/null || true' EXIT
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-2}
command -v redis-server >/dev/null || bench_die "redis-server missing (scripts/packages/kv.txt)"

redis-server --port 0 --unixsocket "$BENCH_TMP/redis.sock" --save '' --appendonly no >"$BENCH_TMP/redis.log" 2>&1 &
REDIS_PID=$!
for i in $(seq 1 100); do [ -S "$BENCH_TMP/redis.sock" ] && break; sleep 0.05; done

# start_kv SPEC BACKEND: the seed config with the KV handler and a [kv] table.
start_kv() {
    local conf=$BENCH_TMP/pmilter-$2.conf
    bench_kv_conf "$1" "$2" "$BENCH_TMP/redis.sock" "$conf"
    "$PMILTER" -c "$conf" >>"$BENCH_TMP/pmilter.log" 2>&1 &
    STARTED_PID=$!
    BENCH_PIDS="$BENCH_PIDS $STARTED_PID"
    bench_wait_ready "$1" "$STARTED_PID"
}
bench_start_pmilter "unix:$BENCH_TMP/seed.sock"
SEED_PID=$STARTED_PID
start_kv "unix:$BENCH_TMP/memory.sock" memory
MEMORY_PID=$STARTED_PID
start_kv "unix:$BENCH_TMP/redis.sock.milter" redis
REDIS_MILTER_PID=$STARTED_PID

RAW=$BENCH_TMP/raw.txt
: >"$RAW"
echo "bench-kv: $ROUNDS rounds x ${SECS}s per measurement ..." >&2
for cell in 8x10 32x10; do
    c=${cell%x*} m=${cell#*x}
    for round in $(seq 1 "$ROUNDS"); do
        for who in seed memory redis; do
            spec=unix:$BENCH_TMP/$who.sock pid=$SEED_PID
            [ "$who" = memory ] && pid=$MEMORY_PID
            [ "$who" = redis ] && spec=unix:$BENCH_TMP/redis.sock.milter pid=$REDIS_MILTER_PID
            t0=$(bench_ticks "$pid") r0=$(bench_ticks "$REDIS_PID")
            json=$("$CLIENT" --load -s "$spec" -c "$c" -m "$m" -t "$SECS" --json)
            t1=$(bench_ticks "$pid") r1=$(bench_ticks "$REDIS_PID")
            jq -r --arg cell "$cell" --arg who "$who" --argjson hz "$CLK_TCK" --argjson t $((t1 - t0)) --argjson r $((r1 - r0)) '
                "\($cell) \($who) \(.msgs_per_sec) \(.errors + .verdicts.tempfail) " +
                "\(if .messages > 0 then $t / $hz * 1e6 / .messages else 0 end) \(if .messages > 0 then $r / $hz * 1e6 / .messages else 0 end)"' <<<"$json" >>"$RAW"
        done
    done
done
awk '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ v[$1, $2] = v[$1, $2] " " $3; cpu[$1, $2] = cpu[$1, $2] " " $5; rcpu[$1] = rcpu[$1] ($2 == "redis" ? " " $6 : "")
  err[$1] += $4; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
END {
    print "| cell (unix, conns x msgs/conn) | seed msg/s | memory msg/s | memory ratio | redis msg/s | redis ratio | errors | pmilter CPU us/msg: seed / memory / redis | redis-server CPU us/msg |"
    print "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    for (i = 1; i <= n; i++) {
        c = order[i]; s = median(v[c, "seed"]); mm = median(v[c, "memory"]); r = median(v[c, "redis"])
        mnote = (mm / s >= 0.90) ? "" : " (target 0.90)"; rnote = (r / s >= 0.70) ? "" : " (target 0.70)"
        printf "| %s | %.0f | %.0f | %.2f%s | %.0f | %.2f%s | %d | %.1f / %.1f / %.1f | %.1f |\n", c, s, mm, mm / s, mnote, r, r / s, rnote, err[c],
            median(cpu[c, "seed"]), median(cpu[c, "memory"]), median(cpu[c, "redis"]), median(rcpu[c])
    }
}' "$RAW"
