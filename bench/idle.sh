#!/bin/bash
# Part of `make bench` (called by bench/run.sh): 1000 negotiated, idle MTA connections held open
# (bench-idlehold), then one new message through pmilter-client while they are open; pmilter's RSS,
# threads, fds and thread stacks as /proc shows them. The baseline milter is measured the same way
# for reference. Prints a Markdown section on stdout (progress on stderr).
# Environment: IDLE_CONNS (default 1000), BUILD, PMILTER.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib.sh"
trap bench_cleanup EXIT
N=${IDLE_CONNS:-1000}
ulimit -n 4096 || bench_die "cannot raise the fd limit to 4096"
[ -x "$IDLEHOLD" ] || bench_die "$IDLEHOLD missing; run 'make bench'"

EML=$BENCH_TMP/one.eml
{
    printf 'From: <load-from@example.com>\nTo: <load-to@example.com>\nSubject: idle bench\nMessage-ID: <idle@example.com>\n'
    for i in 1 2 3 4 5 6; do printf 'X-Load-%d: header value number %d\n' "$i" "$i"; done
    printf '\n'
    head -c 2048 /dev/zero | tr '\0' 'a' | fold -w 76
    printf '\n'
} >"$EML"

now_ns() { date +%s%N; }

# single_shot SPEC: ms of 5 single-message pmilter-client runs, from its connect to its close
# (connect, negotiate, one transaction; the client's own start-up is not the server's), as
# "median / max".
single_shot() {
    local i all=""
    for i in 1 2 3 4 5; do
        all="$all $("$CLIENT" -s "$1" "$EML" --json | jq -e 'if .exit == 0 then .elapsed_ms else false end' || bench_die "single message to $1 failed")"
    done
    echo "$all" | tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR] = $1} END {printf "%.2f / %.2f", a[3], a[NR]}'
}

# stacks PID: "N x <size> KiB (+4 KiB guard), resident R KiB in all" for anonymous rw mappings
# that follow a 4 KiB PROT_NONE guard: glibc's thread stacks.
stacks() {
    awk '
    function hex(s,   i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
    /^[0-9a-f]+-[0-9a-f]+ / {
        split($1, r, "-"); size = (hex(r[2]) - hex(r[1])) / 1024
        anon = (NF < 6)
        in_stack = (prev_guard && anon && $2 == "rw-p" && size >= 64)
        if (in_stack) { n++; sizes[size]++ }
        prev_guard = (anon && $2 == "---p" && size == 4)
        next
    }
    in_stack && $1 == "Rss:" { rss += $2 }
    END {
        s = ""; for (k in sizes) s = s (s == "" ? "" : ", ") sizes[k] " x " k " KiB"
        printf "%s (+4 KiB guard each); %d KiB resident in all", (n ? s : "none"), rss
    }' "/proc/$1/smaps"
}

# probe WHO: fills R_<field> for the server started as WHO.
probe() {
    local who=$1 spec pid fifo hold t0 t1 peak th json
    spec=unix:$BENCH_TMP/$who-idle.sock
    if [ "$who" = pmilter ]; then bench_start_pmilter "$spec"; else bench_start_baseline "$spec"; fi
    pid=$STARTED_PID
    "$CLIENT" --load -s "$spec" -c 8 -m 10 -t 0.5 >/dev/null # warm-up
    sleep 0.3
    eval "R_${who}_rss0=\$(bench_status $pid VmRSS)"
    eval "R_${who}_thr0=\$(bench_status $pid Threads)"
    eval "R_${who}_one0=\$(single_shot $spec)"

    fifo=$BENCH_TMP/$who.fifo
    mkfifo "$fifo"
    t0=$(now_ns)
    "$IDLEHOLD" "$spec" "$N" <"$fifo" >"$BENCH_TMP/$who.hold" 2>&1 &
    hold=$!
    exec 7>"$fifo"
    while ! grep -q '^ready' "$BENCH_TMP/$who.hold"; do
        kill -0 "$hold" 2>/dev/null || { cat "$BENCH_TMP/$who.hold" >&2; bench_die "bench-idlehold failed against $who"; }
        sleep 0.01
    done
    t1=$(now_ns)
    eval "R_${who}_open=$(((t1 - t0) / 1000000))"
    sleep 0.5
    eval "R_${who}_rss=\$(bench_status $pid VmRSS)"
    eval "R_${who}_vsz=\$(bench_status $pid VmSize)"
    eval "R_${who}_thr=\$(bench_status $pid Threads)"
    eval "R_${who}_fds=\$(ls /proc/$pid/fd | wc -l)"
    eval "R_${who}_one=\$(single_shot $spec)"
    json=$("$CLIENT" --load -s "$spec" -c 1 -m 1 -t 2 --json)
    eval "R_${who}_load=\$(echo '$json' | jq -r '\"\\(.latency_ms.p50) / \\(.latency_ms.p99) / \\(.latency_ms.max) (\\(.messages) msgs, \\(.errors) errors)\"')"
    # A burst of 32 busy connections on top: how many workers (and stacks) libmilter starts.
    "$CLIENT" --load -s "$spec" -c 32 -m 10 -t 2 >/dev/null &
    local burst=$! peak=0
    while kill -0 "$burst" 2>/dev/null; do
        th=$(bench_status "$pid" Threads)
        [ "${th:-0}" -gt "$peak" ] && peak=$th
        sleep 0.02
    done
    wait "$burst" || true
    eval "R_${who}_peak=$peak"
    eval "R_${who}_stacks=\"\$(stacks $pid)\""
    eval "R_${who}_rss_after=\$(bench_status $pid VmRSS)"
    eval "R_${who}_vsz_after=\$(bench_status $pid VmSize)"
    sleep 1
    eval "R_${who}_thr_after=\$(bench_status $pid Threads)"
    eval "R_${who}_stacklimit=\"\$(awk '/^Max stack size/ {print \$4, \$5, \$6}' /proc/$pid/limits)\""
    exec 7>&-
    wait "$hold" || true
    bench_stop "$pid"
}

echo "idle: $N idle connections, pmilter then baseline ..." >&2
probe pmilter
probe baseline

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
verdict_lat=$(echo "$R_pmilter_one $R_pmilter_load" | awk '{print ($3 <= 10 && $8 <= 10) ? "met" : "MISSED"}') # max of the single shots, max of the load run
verdict_rss=$(awk -v k="$R_pmilter_rss" 'BEGIN {print (k < 200 * 1024) ? "met" : "MISSED"}')
cat <<MD
## $N idle connections (unix socket, negotiated, idle; bench/idle.sh)

| | pmilter | baseline |
|---|--:|--:|
| RSS before, MiB | $(mib "$R_pmilter_rss0") | $(mib "$R_baseline_rss0") |
| threads before | $R_pmilter_thr0 | $R_baseline_thr0 |
| open and negotiate $N connections, ms | $R_pmilter_open | $R_baseline_open |
| **RSS with $N idle, MiB** | **$(mib "$R_pmilter_rss")** | $(mib "$R_baseline_rss") |
| **threads with $N idle** | **$R_pmilter_thr** | $R_baseline_thr |
| open fds with $N idle | $R_pmilter_fds | $R_baseline_fds |
| VmSize with $N idle, MiB | $(mib "$R_pmilter_vsz") | $(mib "$R_baseline_vsz") |
| one message, no idle conns: ms from connect to close (median / max of 5 pmilter-client runs: connect, negotiate, one message) | $R_pmilter_one0 | $R_baseline_one0 |
| **one message with $N idle: same, ms** | **$R_pmilter_one** | $R_baseline_one |
| messages one at a time with $N idle (-c 1 -m 1, 2 s): p50 / p99 / max ms, envfrom to eom | $R_pmilter_load | $R_baseline_load |
| threads, peak during a 32-connection burst on top | $R_pmilter_peak | $R_baseline_peak |
| threads 1 s after the burst | $R_pmilter_thr_after | $R_baseline_thr_after |
| RSS / VmSize after the burst, MiB | $(mib "$R_pmilter_rss_after") / $(mib "$R_pmilter_vsz_after") | $(mib "$R_baseline_rss_after") / $(mib "$R_baseline_vsz_after") |
| stack limit (/proc/PID/limits, soft hard) | $R_pmilter_stacklimit | $R_baseline_stacklimit |
| thread stacks after the burst (/proc/PID/smaps) | $R_pmilter_stacks | $R_baseline_stacks |

Targets with $N idle connections: a new message answers within 10 ms: **$verdict_lat**; RSS < 200 MiB: **$verdict_rss**.
MD
