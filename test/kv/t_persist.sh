# [kv] persist: the memory store is saved at stop (and every persist_interval
# seconds) and loaded at start, so a restart does not reset greylisting.
kv_site persist memory 'persist = "kv.snap"' 'persist_interval = 0'
start_pmilter "$CONF" || fail "kv persist: start" "pmilter did not start"
send setr   # r = "kept", no TTL
send ttl    # t with a TTL of 2 s
stop_checked "kv persist"
check "kv persist: the snapshot is written at stop, next to the config" test -s "$D/kv.snap"
sleep 2.1   # t expires while pmilter is down
start_pmilter "$CONF" || fail "kv persist: restart" "pmilter did not start"
log_has "kv persist: the start logs what was loaded" "kv persist: 1 keys loaded from .*kv.snap"
send getr; send ttl
out_has "kv persist: a key survives a restart" 'r="kept"'
out_has "kv persist: a key that expired while pmilter was down is not loaded" "t=nil"
stop_checked "kv persist restart"

# Saved every persist_interval seconds: a crash (SIGKILL) loses at most that much.
kv_site persist-crash memory 'persist = "kv.snap"' 'persist_interval = 1'
start_pmilter "$CONF" || fail "kv persist crash: start" "pmilter did not start"
send setr
sleep 2.5   # at least one periodic snapshot, even on a loaded machine
kill -9 "$PM_PID"; wait "$PM_PID" 2>/dev/null; PM_PID=
start_pmilter "$CONF" || fail "kv persist crash: restart" "pmilter did not start"
send getr
out_has "kv persist: after a crash, the last periodic snapshot is loaded" 'r="kept"'
stop_checked "kv persist crash"

# A damaged snapshot: a warning, the file kept aside for the operator, and pmilter serves.
kv_site persist-bad memory 'persist = "kv.snap"'
printf 'not a snapshot' >"$D/kv.snap"
start_pmilter "$CONF" || fail "kv persist bad: start" "pmilter did not start"
log_has "kv persist: a damaged snapshot is named in the log" "warn.*kv.snap is not a pmilter snapshot.*moved to .*kv.snap.corrupt"
check "kv persist: the damaged snapshot is kept as .corrupt" test -s "$D/kv.snap.corrupt"
verdict_is "kv persist: pmilter serves with an empty store" 0 ping
stop_checked "kv persist bad"
