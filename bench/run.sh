#!/bin/bash
# make bench: pmilter (bench/pmilter-bench.conf) against bench/baseline.c, a bare libmilter milter
# playing the same scenario, measured interleaved (baseline, pmilter, baseline, pmilter ...) in the
# same run with pmilter-client's load generator. Prints a table of medians and writes it, with the
# idle-connection figures from bench/idle.sh, to bench/results/LATEST.md.
# Every cell, unix and inet, is judged against the same targets (issue 12 section 3): throughput
# >= MIN_RATIO (0.95) x the baseline's, p99 <= MAX_P99_RATIO (1.2) x the baseline's; a miss is
# marked in the table and summed up at the end, but does not fail the run (the machine is shared).
# A client run that fails, reports an error, a tempfail, a refused connection or a wrong verdict
# fails the bench: exit 1 with the runs named on stderr (after the report is written).
# Environment: ROUNDS (default 3), SECS per measurement (default 2), BUILD, PMILTER, NO_IDLE=1,
# MIN_RATIO, MAX_P99_RATIO; CELLS (e.g. "1x1 8x10") and TRANSPORTS (e.g. "unix") measure a
# subset, printed but not written to bench/results/LATEST.md (which holds full runs only).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
trap bench_cleanup EXIT
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-2}
MIN_RATIO=${MIN_RATIO:-0.95}
MAX_P99_RATIO=${MAX_P99_RATIO:-1.2}
BODY=2048
HEADERS=10
RAW=$BENCH_TMP/raw.txt # transport cell server round rate p50 p99 srv_us client_us rss_kb errors verdicts_ok
FAILED=$BENCH_TMP/failed.txt # one line per client run that failed or saw errors
: >"$RAW"
: >"$FAILED"
# What a client run that printed no JSON counts as: no messages, one error.
NO_RESULT='{"messages":0,"msgs_per_sec":0,"latency_ms":{"p50":0,"p99":0},"cpu_us_per_msg":0,"errors":1,"refused_connections":0,"modifications":0,"verdicts":{"continue":0,"reject":0,"tempfail":0}}'

# measure CELL SERVER ROUND PID SPEC CONNS MSGS [FROM]
measure() {
    local cell=$1 who=$2 round=$3 pid=$4 spec=$5 c=$6 m=$7 from=${8:-<load-from@example.com>}
    local t0 t1 json rc=0
    t0=$(bench_ticks "$pid")
    json=$("$CLIENT" --load -s "$spec" -c "$c" -m "$m" -t "$SECS" -b $BODY --headers $HEADERS \
        --from "$from" --to '<load-to@example.com>' --json 2>"$BENCH_TMP/client.err") || rc=$?
    t1=$(bench_ticks "$pid")
    jq -e '.messages' <<<"$json" >/dev/null 2>&1 || json=$NO_RESULT
    if [ "$rc" != 0 ]; then
        echo "$cell $who round $round: pmilter-client exited $rc: $(jq -r '"\(.errors) error(s), \(.messages) message(s), first error: \(.first_error)"' <<<"$json") $(head -c 200 "$BENCH_TMP/client.err")" >>"$FAILED"
    fi
    local rss
    rss=$(bench_status "$pid" VmRSS)
    echo "$json" | jq -r --arg cell "$cell" --arg who "$who" --arg round "$round" \
        --argjson ticks $((t1 - t0)) --argjson hz "$CLK_TCK" --argjson rss "$rss" \
        --arg reject "$([ "$from" = '<spam-from@example.com>' ] && echo 1 || echo 0)" '
        [$cell, $who, $round, .msgs_per_sec, .latency_ms.p50, .latency_ms.p99,
         (if .messages > 0 then ($ticks / $hz * 1e6 / .messages) else 0 end),
         .cpu_us_per_msg, $rss,
         (.errors + .verdicts.tempfail + .refused_connections),
         (if $reject == "1" then (.verdicts.reject == .messages) else (.verdicts.continue == .messages and .modifications == .messages) end)]
        | map(tostring) | join(" ")' >>"$RAW"
}

# run_cells TRANSPORT: every cell of this transport, ROUNDS times, baseline then pmilter each time.
run_cells() {
    local transport=$1 bspec pspec bpid ppid
    if [ "$transport" = unix ]; then
        bspec=unix:$BENCH_TMP/baseline.sock
        pspec=unix:$BENCH_TMP/pmilter.sock
    else
        bspec=inet:$(bench_port)@127.0.0.1
        pspec=inet:$(bench_port)@127.0.0.1
    fi
    bench_start_baseline "$bspec"; bpid=$STARTED_PID
    bench_start_pmilter "$pspec"; ppid=$STARTED_PID
    # Warm-up: VM pool, libmilter workers, page cache; not recorded.
    "$CLIENT" --load -s "$bspec" -c 8 -m 10 -t 0.5 >/dev/null
    "$CLIENT" --load -s "$pspec" -c 8 -m 10 -t 0.5 >/dev/null
    local cells="1x1 1x10 8x1 8x10 32x1 32x10"
    [ "$transport" = unix ] && cells="$cells reject8x10"
    cells=${CELLS:-$cells}
    local round cell c m from
    for cell in $cells; do
        for round in $(seq 1 "$ROUNDS"); do
            from='<load-from@example.com>'
            case $cell in reject*) from='<spam-from@example.com>' ;; esac
            c=${cell#reject}; m=${c#*x}; c=${c%x*}
            measure "$transport $cell" baseline "$round" "$bpid" "$bspec" "$c" "$m" "$from"
            measure "$transport $cell" pmilter "$round" "$ppid" "$pspec" "$c" "$m" "$from"
        done
        printf '.' >&2
    done
    bench_stop "$bpid"
    bench_stop "$ppid"
}

start=$(date +%s)
echo "bench: $ROUNDS rounds x ${SECS}s per measurement, unix then inet ..." >&2
for transport in ${TRANSPORTS:-unix inet}; do run_cells "$transport"; done
echo >&2

# Medians per cell and server, then one row per cell.
table() {
    awk '
    function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
        key = $1 " " $2 SUBSEP $3
        if (!(($1 " " $2) in seen)) { seen[$1 " " $2] = 1; order[++ncell] = $1 " " $2 }
        for (f = 5; f <= 11; f++) v[key, f] = v[key, f] " " $f
        bad[key] += $11; if ($12 != "true") wrong[key]++
    }
    END {
        print "| cell (transport conns x msgs/conn) | baseline msg/s | pmilter msg/s | thr. ratio | baseline p50 ms | pmilter p50 ms | baseline p99 ms | pmilter p99 ms | p99 ratio | pmilter RSS MiB | pmilter CPU us/msg | baseline CPU us/msg | client CPU us/msg (pmilter run) | target |"
        print "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
        missed = 0
        for (i = 1; i <= ncell; i++) {
            c = order[i]; b = c SUBSEP "baseline"; p = c SUBSEP "pmilter"
            br = median(v[b, 5]); pr = median(v[p, 5])
            bp99 = median(v[b, 7]); pp99 = median(v[p, 7])
            ratio = br > 0 ? pr / br : 0; p99r = bp99 > 0 ? pp99 / bp99 : 0
            verdict = (ratio >= minr ? "thr ok" : sprintf("thr MISSED (<%.2f)", minr))
            verdict = verdict ", " (p99r <= maxp99 ? "p99 ok" : sprintf("p99 MISSED (>%.2f)", maxp99))
            if (ratio < minr || p99r > maxp99) missed++
            if (bad[b] + bad[p] > 0) verdict = verdict ", ERRORS " bad[b] "/" bad[p]
            if (wrong[b] + wrong[p] > 0) verdict = verdict ", WRONG VERDICTS " wrong[b] + 0 "/" wrong[p] + 0
            printf "| %s | %.0f | %.0f | %.2f | %.3f | %.3f | %.3f | %.3f | %.2f | %.1f | %.1f | %.1f | %.1f | %s |\n", \
                c, br, pr, ratio, median(v[b, 6]), median(v[p, 6]), bp99, pp99, p99r, \
                median(v[p, 10]) / 1024, median(v[p, 8]), median(v[b, 8]), median(v[p, 9]), verdict
        }
        print ""
        printf "Targets met in %d of %d cells.\n", ncell - missed, ncell
    }' minr="$MIN_RATIO" maxp99="$MAX_P99_RATIO" "$RAW"
}

idle=""
if [ "${NO_IDLE:-0}" != 1 ]; then
    idle=$("$ROOT/bench/idle.sh")
fi
elapsed=$(($(date +%s) - start))
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
report=$(
    echo "# pmilter bench: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(uname -n), $(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- pmilter: $("$PMILTER" -v 2>/dev/null | head -1); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes')"
    echo "- command: \`make bench\` (bench/run.sh: ROUNDS=$ROUNDS SECS=$SECS), took ${elapsed}s"
    echo "- scenario: pmilter-client --load, $HEADERS headers, $BODY-byte body, envelope <load-from@example.com> -> <load-to@example.com>;"
    echo "  the reject cell sends every message from <spam-from@example.com> (rejected at MAIL FROM). Only envfrom and eom are negotiated by both."
    echo "- each figure is the median of $ROUNDS interleaved measurements (baseline, pmilter, baseline, pmilter ...) of ${SECS}s each;"
    echo "  latency is envfrom to eom reply, per message, as pmilter-client measures it. CPU per message: server utime+stime from /proc/PID/stat"
    echo "  over the measurement / messages; the client's from its --json. Client and server share the $(nproc) CPUs, and other jobs ran on this machine."
    echo "- targets, every cell (unix and inet): throughput >= $MIN_RATIO x baseline; p99 <= $MAX_P99_RATIO x baseline's."
    echo
    table
    echo
    if [ -s "$FAILED" ]; then
        echo "**FAILED client runs ($(wc -l <"$FAILED")):**"
        sed 's/^/- /' "$FAILED"
        echo
    fi
    if [ -n "$idle" ]; then echo "$idle"; fi
)
echo "$report"
if [ -z "${CELLS:-}${TRANSPORTS:-}" ]; then
    mkdir -p "$ROOT/bench/results"
    echo "$report" >"$ROOT/bench/results/LATEST.md"
    { echo; echo "## Scrape cost (bench/scrape.sh)"; echo; "$ROOT/bench/scrape.sh"; } | tee -a "$ROOT/bench/results/LATEST.md"
    echo
    echo "bench: written to bench/results/LATEST.md" >&2
    # issue 18: 30 Regexp rules against a C milter on PCRE2-JIT; wrong verdicts or scores fail the bench
    BUILD=$BUILD PMILTER=$PMILTER "$ROOT/bench/rules.sh" || echo "rules: bench/rules.sh failed (exit $?)" >>"$FAILED"
fi
# Wrong verdicts or errors counted in the table (field 11 > 0, field 12 not true) fail it as well.
awk '$11 != 0 || $12 != "true" {print $1 " " $2 " " $3 " round " $4 ": " $11 " error(s)/tempfail(s)/refused, verdicts as expected: " $12}' "$RAW" >>"$FAILED"
if [ -s "$FAILED" ]; then
    echo "bench: FAILED: $(sort -u "$FAILED" | wc -l) problem(s) in the client runs (failed, errors or wrong verdicts):" >&2
    sort -u "$FAILED" | sed 's/^/bench:   /' >&2
    exit 1
fi
