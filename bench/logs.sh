#!/bin/bash
# bench/logs.sh: what the per-message log line costs. For each setting below,
# one pmilter (a one-line eom handler) under `pmilter-client --load -c 4 -t 5`,
# stderr to a file; prints msg/s and pmilter's own CPU µs per message (utime +
# stime from /proc before the stop, over the messages sent). msg/s swings with
# the machine's other load; CPU per message is the steadier number.
# Environment: ROUNDS (default 3), PMILTER, CLIENT.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PMILTER=${PMILTER:-$ROOT/pmilter} CLIENT=${CLIENT:-$ROOT/pmilter-client} ROUNDS=${ROUNDS:-3}
T=$(mktemp -d /tmp/pmilter-bench-logs.XXXXXX)
PID=""
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
echo 'Pmilter::Session.new' >"$T/eom.rb"
TICKS=$(getconf CLK_TCK)

# one LABEL [server lines...]
one() {
    local label=$1 d=$T/$1; shift
    mkdir -p "$d"
    { echo '[server]'; echo "listen = \"$d/pm.sock\""; printf '%s\n' "$@"
      echo '[handler.session]'; echo "mruby_eom_handler = \"$T/eom.rb\""; } >"$d/pmilter.conf"
    "$PMILTER" -c "$d/pmilter.conf" 2>"$d/err" >/dev/null & PID=$!
    for _ in $(seq 100); do [ -S "$d/pm.sock" ] && break; sleep 0.05; done
    "$CLIENT" --load -s "unix:$d/pm.sock" -c 4 -t 5 --json >"$d/load.json"
    local ticks; ticks=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    kill "$PID"; wait "$PID" || true; PID=""
    local msgs; msgs=$(jq -r .messages "$d/load.json")
    printf '%-28s %8s msg/s  %6.1f µs CPU/msg\n' "$label" "$(jq -r .msgs_per_sec "$d/load.json")" \
        "$(echo "$ticks * 1000000 / $TICKS / $msgs" | bc -l)"
}
for _ in $(seq "$ROUNDS"); do
    one "notice (no message line)" 'log_level = "notice"'
    one "info, text" 'log_level = "info"'
    one "info, json" 'log_level = "info"' 'log_format = "json"'
    one "info, json, log_envelope" 'log_level = "info"' 'log_format = "json"' 'log_envelope = true'
done
