# Shared by bench/run.sh, bench/idle.sh and bench/soak.sh: start/stop the servers and read /proc.
# Every server started here is recorded in BENCH_PIDS and stopped by bench_cleanup (by PID).
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build/default}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PMILTER=${PMILTER:-pmilter}
case $PMILTER in /*) ;; *) PMILTER=$ROOT/$PMILTER ;; esac
CLIENT=$ROOT/pmilter-client
BASELINE=$BUILD/bench-baseline
IDLEHOLD=$BUILD/bench-idlehold
CLK_TCK=$(getconf CLK_TCK)
BENCH_PIDS=""

bench_die() { echo "bench: $*" >&2; exit 1; }

for f in "$PMILTER" "$CLIENT" "$BASELINE"; do
    [ -x "$f" ] || bench_die "$f missing; run 'make bench' (it builds everything)"
done
command -v jq >/dev/null || bench_die "jq missing; run 'make bench' (it installs scripts/packages/bench.txt)"

BENCH_TMP=$(mktemp -d /tmp/pmilter-bench.XXXXXX)

bench_cleanup() {
    local pid
    for pid in $BENCH_PIDS; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $BENCH_PIDS; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$BENCH_TMP"
}

# A free-looking TCP port on 127.0.0.1, below the ephemeral range the load client's own
# sockets use (bind fails loudly below if it was taken meanwhile).
bench_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 12000))
        (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
    done
}

# bench_conf SPEC OUT: pmilter-bench.conf listening on SPEC, handler paths absolute,
# log_level from BENCH_LOG_LEVEL if set (soak.sh uses debug to see the VM pool grow),
# min_worker from BENCH_MIN_WORKER if set.
bench_conf() {
    local listen=${1#unix:}
    sed -e "s#^\( *listen *= *\).*#\1\"$listen\"#" \
        -e "s#^\( *min_worker *= *\).*#\1${BENCH_MIN_WORKER:-4}#" \
        -e "s#^\( *log_level *= *\).*#\1\"${BENCH_LOG_LEVEL:-warning}\"#" \
        -e "s#\"handler/#\"$ROOT/bench/handler/#" "$ROOT/bench/pmilter-bench.conf" >"$2"
}

# bench_kv_conf SPEC BACKEND REDIS_SOCKET OUT: the seed config plus the rate limit of
# bench/kv.sh (one Pmilter::KV.incr with a TTL per message at MAIL FROM) on BACKEND.
bench_kv_conf() {
    { echo 'Pmilter::KV.incr("rate:#{Pmilter::Session.new.client_ipaddr}", ttl: 60)'
      cat "$ROOT/bench/handler/envfrom.rb"; } >"$BENCH_TMP/envfrom-kv.rb"
    bench_conf "$1" "$4"
    sed -i "s#\"[^\"]*handler/envfrom.rb\"#\"$BENCH_TMP/envfrom-kv.rb\"#" "$4"
    printf '\n[kv]\nbackend = "%s"\nurl = "unix:%s"\n' "$2" "$3" >>"$4"
}

# bench_wait_ready SPEC PID: until one message goes through (or the server died).
bench_wait_ready() {
    local i
    for i in $(seq 1 100); do
        kill -0 "$2" 2>/dev/null || { cat "$BENCH_TMP"/*.log >&2; bench_die "server for $1 (pid $2) exited at start-up"; }
        if "$CLIENT" --load -s "$1" -c 1 -m 1 -t 0.05 --json 2>/dev/null | jq -e '.messages > 0 and .errors == 0' >/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    bench_die "server for $1 (pid $2) never answered"
}

# bench_start_baseline SPEC / bench_start_pmilter SPEC: start, wait until serving; the PID is in STARTED_PID.
bench_start_baseline() {
    "$BASELINE" "$1" >>"$BENCH_TMP/baseline.log" 2>&1 &
    STARTED_PID=$!
    BENCH_PIDS="$BENCH_PIDS $STARTED_PID"
    bench_wait_ready "$1" "$STARTED_PID"
}
bench_start_pmilter() {
    local conf
    conf=$BENCH_TMP/pmilter-$RANDOM.conf
    bench_conf "$1" "$conf"
    "$PMILTER" -c "$conf" >>"$BENCH_TMP/pmilter.log" 2>&1 &
    STARTED_PID=$!
    BENCH_PIDS="$BENCH_PIDS $STARTED_PID"
    bench_wait_ready "$1" "$STARTED_PID"
}
bench_stop() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    BENCH_PIDS=$(echo " $BENCH_PIDS " | sed "s/ $1 / /")
}

# CPU ticks (utime+stime) of PID; the fields after the ")" that ends comm.
bench_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# /proc/PID/status field in its unit (VmRSS kB, Threads ...).
bench_status() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
