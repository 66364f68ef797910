# What only the Redis backend has: an outage, a slow server, and two pmilter
# processes sharing one store.

# Redis killed mid-run: KV::Error, handler_error (tempfail) when uncaught, a
# handler may rescue it; recovery when Redis returns, without a restart.
kv_site outage redis
start_pmilter "$CONF" || fail "kv redis outage: start" "pmilter did not start"
verdict_is "kv redis: a message passes while Redis is up" 0 ping
redis_kill
verdict_is "kv redis: Redis down: an uncaught KV::Error gives handler_error (tempfail)" 2 ping
log_has "kv redis: the outage is logged as Pmilter::KV::Error" "redis unix:.*\(Pmilter::KV::Error\).*answering tempfail"
send rescue
out_has "kv redis: a handler can rescue Pmilter::KV::Error" "rescue=Pmilter::KV::Error"
redis_start
recovered() { send ping; }
if wait_for recovered; then pass "kv redis: pmilter reconnects when Redis returns, without a restart"
else fail "kv redis: pmilter reconnects when Redis returns, without a restart" "$(tail -1 <<<"$SENT")"; fi
stop_checked "kv redis outage"

# on_error = "continue": the operator's fail-open for the whole store.
kv_site failopen redis 'on_error = "continue"'
start_pmilter "$CONF" || fail "kv redis failopen: start" "pmilter did not start"
redis_kill
verdict_is "kv redis: on_error = continue lets mail through while Redis is down" 0 ping
log_has "kv redis: ... and logs the error with the verdict" "\(Pmilter::KV::Error\).*answering continue"
verdict_is "kv redis: on_error = continue also for a KV call inside a method" 0 ping-in-method
redis_start
stop_checked "kv redis failopen"

# A slow Redis (DEBUG SLEEP) hits timeout_ms: KV::Error, then recovery.
kv_site slow redis 'timeout_ms = 300'
start_pmilter "$CONF" || fail "kv redis slow: start" "pmilter did not start"
verdict_is "kv redis slow: a message passes before the stall" 0 ping
redis-cli -s "$REDIS_SOCK" DEBUG SLEEP 2 >/dev/null & sleeper=$!
redis_asleep() { ! timeout 0.1 redis-cli -s "$REDIS_SOCK" ping >/dev/null 2>&1; }
wait_for redis_asleep || fail "kv redis slow: DEBUG SLEEP" "Redis kept answering"
started=$(date +%s%N)
verdict_is "kv redis: a reply slower than timeout_ms gives KV::Error (tempfail)" 2 ping
took=$((($(date +%s%N) - started) / 1000000))
if [ "$took" -lt 1500 ]; then pass "kv redis: the handler gave up after timeout_ms, not after Redis answered ($took ms)"
else fail "kv redis: the handler gave up after timeout_ms, not after Redis answered" "took $took ms"; fi
log_has "kv redis: the timeout is named in the log" "no reply within timeout_ms \(300\)"
wait "$sleeper"
if wait_for recovered; then pass "kv redis: after the stall the next messages pass"
else fail "kv redis: after the stall the next messages pass" "$(tail -1 <<<"$SENT")"; fi
stop_checked "kv redis slow"

# Two pmilter processes share one rate limit: 100 pass across both, the 101st tempfails.
PREFIX="shared:$RANDOM:" kv_site rl-a redis
start_pmilter "$CONF" || fail "kv redis rl-a: start" "pmilter did not start"
SOCK_A=$SOCK PID_A=$PM_PID ERR_A=$PM_ERR
PREFIX=$(sed -n 's/^prefix = "\(.*\)"/\1/p' "$CONF") kv_site rl-b redis
start_pmilter "$CONF" || fail "kv redis rl-b: start" "pmilter did not start"
st=""
for i in $(seq 1 101); do if ((i % 2)); then send rl "$SOCK_A"; else send rl; fi; st="$st$?"; done
if [ "$st" = "$(printf '0%.0s' $(seq 1 100))2" ]; then pass "kv redis: two pmilter processes share one rate limit (the 101st message tempfails)"
else fail "kv redis: two pmilter processes share one rate limit (the 101st message tempfails)" "exit statuses $st"; fi
stop_checked "kv redis rl-b"
PM_PID=$PID_A PM_ERR=$ERR_A stop_checked "kv redis rl-a"

# url lists several servers: a dead first one is skipped, the next one used.
kv_site failover redis
sed -i "s|^url = .*|url = \"unix:$T/no-such-redis.sock, unix:$REDIS_SOCK\"|" "$CONF"
start_pmilter "$CONF" || fail "kv redis failover: start" "pmilter did not start"
verdict_is "kv redis: with a list of URLs a dead first server is skipped" 0 ping
send ping
out_has "kv redis: ... and the next one serves the store" "ping=2"
stop_checked "kv redis failover"

# password and database: AUTH and SELECT after connecting.
redis-cli -s "$REDIS_SOCK" CONFIG SET requirepass s3cret >/dev/null
kv_site auth redis 'password = "s3cret"'
sed -i "s|^url = .*|url = \"unix:$REDIS_SOCK?db=3\"|" "$CONF"
start_pmilter "$CONF" || fail "kv redis auth: start" "pmilter did not start"
verdict_is "kv redis: with password, pmilter logs in (AUTH)" 0 ping
prefix=$(sed -n 's/^prefix = "\(.*\)"/\1/p' "$CONF")
got=$(redis-cli -s "$REDIS_SOCK" -a s3cret --no-auth-warning -n 3 GET "${prefix}ping")
if [ "$got" = 1 ]; then pass "kv redis: unix:PATH?db=3 stores in database 3"; else fail "kv redis: unix:PATH?db=3 stores in database 3" "GET in db 3 gave '$got'"; fi
stop_checked "kv redis auth"
kv_site noauth redis
start_pmilter "$CONF" || fail "kv redis noauth: start" "pmilter did not start"
verdict_is "kv redis: without the password every call is a KV::Error (tempfail)" 2 ping
log_has "kv redis: ... and the log says why" "NOAUTH.*\(Pmilter::KV::Error\)"
stop_checked "kv redis noauth"
redis-cli -s "$REDIS_SOCK" -a s3cret --no-auth-warning CONFIG SET requirepass '' >/dev/null
