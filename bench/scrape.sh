#!/bin/bash
# The cost of being scraped (issue 16): one pmilter on the seed scenario
# (bench/pmilter-bench.conf) with [metrics] on, loaded by pmilter-client
# (8 conns x 10 msgs), measured ROUNDS times interleaved without and with a
# scraper fetching /metrics every 100 ms (one Python process, keep-alive, as
# Prometheus does), the order alternating by round. Prints the median msg/s of each, their ratio (target: the
# scrape costs < 1 % of throughput) and pmilter's CPU per scrape measured
# alone (utime+stime over SCRAPES back-to-back scrapes). Shared machine: the
# throughput ratio is noisy at the 1 % level; the CPU figure is the steadier one.
# Environment: ROUNDS (default 5), SECS per measurement (default 2), SCRAPES
# (default 1000), BUILD, PMILTER.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
trap bench_cleanup EXIT
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-2}
SCRAPES=${SCRAPES:-1000}
PY=/usr/bin/python3

SPEC=unix:$BENCH_TMP/scrape.sock
PORT=$(bench_port)
CONF=$BENCH_TMP/pmilter-scrape.conf
bench_conf "$SPEC" "$CONF"
printf '\n[metrics]\nlisten = "127.0.0.1:%s"\n' "$PORT" >>"$CONF"
"$PMILTER" -c "$CONF" >>"$BENCH_TMP/pmilter.log" 2>&1 &
PID=$!
BENCH_PIDS="$BENCH_PIDS $PID"
bench_wait_ready "$SPEC" "$PID"
URL=http://127.0.0.1:$PORT/metrics
curl -sf -o /dev/null "$URL" || bench_die "no metrics at $URL"

# scraper.py PORT EVERY COUNT: fetches /metrics COUNT times (0: until SIGTERM), EVERY s apart; prints how many.
cat >"$BENCH_TMP/scraper.py" <<'PY'
import http.client, signal, sys, time
port, every, count = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
done = 0
signal.signal(signal.SIGTERM, lambda *a: (print(done, flush=True), sys.exit(0)))
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
while count == 0 or done < count:
    c.request("GET", "/metrics")
    r = c.getresponse()
    if r.status != 200 or not r.read():
        sys.exit(f"scrape {done}: HTTP {r.status}")
    done += 1
    if every:
        time.sleep(every)
print(done, flush=True)
PY
scraper() { "$PY" "$BENCH_TMP/scraper.py" "$PORT" "$@"; }

load() { "$CLIENT" --load -s "$SPEC" -c 8 -m 10 -t "$SECS" -b 2048 --headers 10 --json | jq -r '"\(.msgs_per_sec) \(.errors + .verdicts.tempfail)"'; }

"$CLIENT" --load -s "$SPEC" -c 8 -m 10 -t 0.5 >/dev/null # warm-up
RAW=$BENCH_TMP/scrape.txt
: >"$RAW"
echo "bench-scrape: $ROUNDS rounds x ${SECS}s, without and with a scrape every 100 ms ..." >&2
# with: one measurement under a scrape every 100 ms; records msg/s, and the
# scrapes made and the scraper's own CPU ticks over the measurement.
with() {
    "$PY" "$BENCH_TMP/scraper.py" "$PORT" 0.1 0 >"$BENCH_TMP/scrapes" &
    local spid=$! w0 s0
    sleep 0.5 # the scraper is running (Python started) before the load starts
    w0=$(date +%s.%N); s0=$(bench_ticks "$spid")
    echo "with $(load)" >>"$RAW"
    local s1; s1=$(bench_ticks "$spid")
    kill -TERM "$spid"; wait "$spid" || true
    echo "scrapes $(cat "$BENCH_TMP/scrapes") $(awk -v a="$w0" -v b="$(date +%s.%N)" 'BEGIN { print b - a + 0.5 }') $((s1 - s0))" >>"$RAW"
}
# Rounds alternate the order (without, with; then with, without) so neither
# side always runs on a machine warmed or loaded by the other.
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then echo "without $(load)" >>"$RAW"; with
    else with; echo "without $(load)" >>"$RAW"; fi
done
t0=$(bench_ticks "$PID")
scraper 0 "$SCRAPES" >/dev/null
t1=$(bench_ticks "$PID")
bytes=$(curl -sf "$URL" | wc -c)
awk -v ticks=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$SCRAPES" -v bytes="$bytes" '
function median(list,   k, a, i, j, t) {
    k = split(list, a, " ")
    for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
$1 == "scrapes" { scrapes += $2; secs += $3; sticks += $4; next }
{ v[$1] = v[$1] " " $2; err += $3 }
END {
    w = median(v["without"]); s = median(v["with"]); ratio = w > 0 ? s / w : 0
    us = ticks / hz * 1e6 / n
    print "| unix 8x10, seed scenario | msg/s without scrapes | msg/s with scrapes | scrapes/s reached | ratio | throughput cost | pmilter CPU per scrape | its share of one core at 10 scrapes/s | the scraper'"'"'s own CPU per scrape (same machine) | scrape size | errors |"
    print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    printf "| medians of %d interleaved rounds | %.0f | %.0f | %.1f | %.3f | %.2f %% %s | %.0f us | %.3f %% | %.0f us | %d bytes | %d |\n", \
        split(v["with"], tmp, " "), w, s, (secs > 0 ? scrapes / secs : 0), ratio, (1 - ratio) * 100, \
        ((1 - ratio) < 0.01 ? "(target < 1 %: met)" : "(target < 1 %: MISSED)"), us, us * 10 / 1e4, \
        (scrapes > 0 ? sticks / hz * 1e6 / scrapes : 0), bytes, err
}' "$RAW"
