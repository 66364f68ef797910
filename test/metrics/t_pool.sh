# The VM pool under contention (src/ruby/vm_pool.c: a VM given back waits on
# the giving thread's shelf; waiters and givers hand VMs over without losing a
# wake-up). Two VMs for 8 busy sessions: every message goes through, the pool
# never grows past max_worker, callers did wait, and the counters are exact
# under concurrency; a reload in the middle frees the old generation's VMs
# (wherever they wait) and its sessions finish. Sourced by test/metrics/run.sh.
new_site pool 'min_worker = 1' 'max_worker = 2'
PORT=$(free_port)
printf '[metrics]\nlisten = "127.0.0.1:%s"\n' "$PORT" >>"$CONF"
handler envfrom 't = Time.now
while Time.now - t < 0.001; end   # long enough that 8 sessions queue for 2 VMs'
handler eom 'Pmilter::Session::Headers.new["X-Pool"] = "1"'
start_pmilter "$CONF" || { fail "pool: start" "$(tail -3 "$PM_ERR")"; return; }
"$CLIENT" --load -s "unix:$SOCK" -c 8 -m 10 -t 3 --json >"$D/load.json" 2>&1 &
load=$!
sleep 1.5
kill -USR1 "$PM_PID"
wait "$load"
n=$(jq -r 'if .errors == 0 then .messages else "errors: \(.errors) \(.first_error)" end' "$D/load.json" 2>&1)
case $n in '' | *[!0-9]*) fail "pool: 8 sessions on 2 VMs, a reload between: no error" "$n"; n=0 ;;
*) [ "$n" -gt 50 ] && pass "pool: 8 sessions on 2 VMs, a reload between: no error" || fail "pool: 8 sessions on 2 VMs, a reload between: no error" "only $n messages" ;; esac
wait_for grep -q 'reloaded' "$PM_ERR" || fail "pool: the reload happened" "$(tail -2 "$PM_ERR")"
wait_for sessions_closed
scrape
sample_is "pool: every message counted once" 'pmilter_messages_total{verdict="continue"}' "$n"
sample_is "pool: eom handler runs counted exactly" 'pmilter_handler_duration_seconds_count{phase="eom"}' "$n"
if awk '$1 == "pmilter_vm_pool_size" { exit !($2 >= 1 && $2 <= 2) }' "$T/samples"; then
    pass "pool: the old generation's VMs are gone; the new pool stays within max_worker"
else fail "pool: the old generation's VMs are gone; the new pool stays within max_worker" "$(grep pool_size "$T/samples")"; fi
sample_is "pool: no VM busy after the load" "pmilter_vm_pool_busy" 0
if awk '$1 == "pmilter_vm_pool_waits_total" { exit !($2 >= 1) }' "$T/samples"; then pass "pool: callers waited for a VM (the wait path ran)"
else fail "pool: callers waited for a VM (the wait path ran)" "$(grep waits "$T/samples")"; fi
stop_pmilter
[ "$PM_STATUS" = 0 ] && pass "pool: exits 0 on SIGTERM" || fail "pool: exits 0 on SIGTERM" "status $PM_STATUS"
check_sanitizer_clean "pool: no sanitizer report"
