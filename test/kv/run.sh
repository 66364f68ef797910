#!/bin/bash
# Pmilter::KV against both backends: t_kv.sh runs once with the memory store
# and once with a private redis-server (unix socket, no persistence, stopped
# at the end); t_redis.sh covers what only Redis has (outages, timeouts, two
# pmilter processes sharing one store).
# checks: 161  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh
trap _run_cleanup EXIT
PMILTER=${PMILTER:-./pmilter}
CLIENT=${CLIENT:-./pmilter-client}
for tool in redis-server redis-cli "$CLIENT"; do
    command -v "$tool" >/dev/null || { fail "kv" "$tool not found (scripts/deps.sh, make test-build)"; exit 1; }
done
tmpdir
REDIS_SOCK=$T/redis.sock

# redis_start / redis_stop: the private Redis; redis_kill drops it at once.
redis_start() {
    redis-server --port 0 --unixsocket "$REDIS_SOCK" --save '' --appendonly no --daemonize no \
        --enable-debug-command local >"$T/redis.log" 2>&1 &
    REDIS_PID=$!
    on_exit "kill -9 $REDIS_PID"
    wait_for redis-cli -s "$REDIS_SOCK" ping >/dev/null 2>&1
}
redis_kill() { kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null; rm -f "$REDIS_SOCK"; }

# kv_site NAME BACKEND [kv line ...]: a site whose envfrom handler is
# test/kv/handler.rb, with [kv] backend = BACKEND and the given lines.
kv_site() {
    D=$T/$1; local name=$1 backend=$2; shift 2
    mkdir -p "$D/handler"
    cp test/kv/handler.rb "$D/handler/envfrom.rb"
    SOCK=$D/pm.sock CONF=$D/pmilter.conf
    { echo '[server]'; echo "listen = \"$SOCK\""; echo 'log_level = "info"'; echo 'min_worker = 8'
      echo '[kv]'; echo "backend = \"$backend\""; echo "url = \"unix:$REDIS_SOCK\""
      echo "prefix = \"${PREFIX:-$name:$RANDOM:}\""; printf '%s\n' "$@"
      echo '[handler.session]'; echo 'mruby_envfrom_handler = "handler/envfrom.rb"'; } >"$CONF"
}
# send CMD [SOCK]: one message from <CMD@x>; the client's exit status (0
# continue, 2 tempfail) is returned, its output left in $SENT.
printf 'From: a@x\nTo: b@y\nSubject: kv\n\nhello\n' >"$T/mail.eml"
send() { SENT=$("$CLIENT" -s "unix:${2:-$SOCK}" --from "<$1@x>" "$T/mail.eml" 2>&1); }
# concurrently N CMD: N clients send CMD at once; returns when all are done
# (a bare `wait` would wait for pmilter too).
concurrently() {
    local pids=() i
    for ((i = 0; i < $1; i++)); do "$CLIENT" -s "unix:$SOCK" --from "<$2@x>" "$T/mail.eml" >/dev/null 2>&1 & pids+=($!); done
    wait "${pids[@]}"
}
# stop_checked NAME: stops pmilter and checks its stderr has no sanitizer report.
stop_checked() { stop_pmilter; check_sanitizer_clean "$1: no sanitizer report"; }
# out_has NAME LINE: pmilter's stdout (the handler's puts) has this line.
out_has() { if tr -d '\r' <"$PM_OUT" | grep -qxF -- "$2"; then pass "$1"; else fail "$1" "stdout lacks '$2': $(tail -3 "$PM_OUT" | tr '\n' ' ')"; fi; }
log_has() { if grep -qE -- "$2" "$PM_ERR"; then pass "$1"; else fail "$1" "log lacks /$2/: $(tail -2 "$PM_ERR" | tr '\n' ' ')"; fi; }
# verdict_is NAME WANT CMD: sending CMD gets the client exit status WANT.
verdict_is() { send "$3"; local st=$?; if [ "$st" = "$2" ]; then pass "$1"; else fail "$1" "exit $st, want $2: $(tail -1 <<<"$SENT")"; fi; }

# The memory backend from C first (test_kv_mem.c; make test-build builds it).
BUILD=${BUILD:-build/default}
if [ -x "$BUILD/kvtest/test_kv_mem" ]; then "$BUILD/kvtest/test_kv_mem" 2>/dev/null
else fail "kv: test_kv_mem" "not built ($BUILD/kvtest/test_kv_mem: make test-build)"; fi

redis_start || { fail "kv: redis-server" "did not start: $(tail -2 "$T/redis.log")"; exit 1; }
for BACKEND in memory redis; do
    (_cleanup_cmds=(); trap _run_cleanup EXIT; . test/kv/t_kv.sh)
    (_cleanup_cmds=(); trap _run_cleanup EXIT; . test/kv/t_greylist.sh)
done
(_cleanup_cmds=(); trap _run_cleanup EXIT; . test/kv/t_config.sh)
(_cleanup_cmds=(); trap _run_cleanup EXIT; . test/kv/t_memory.sh)
(_cleanup_cmds=(); trap _run_cleanup EXIT; . test/kv/t_persist.sh)
(_cleanup_cmds=(); trap _run_cleanup EXIT; . test/kv/t_redis_ops.sh)
(_cleanup_cmds=(); trap _run_cleanup EXIT; . test/kv/t_redis.sh)
suite_exit
