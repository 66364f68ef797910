# What only the memory backend has: the memory_limit bound with LRU eviction.
kv_site lru memory 'memory_limit = 1'
start_pmilter "$CONF" || fail "kv memory: start" "pmilter did not start"
send lru   # writes 3000 keys of 1000 bytes into a 1 MiB store
out_has "kv memory: over memory_limit the oldest keys are evicted, the newest kept" "lru newest=kept oldest=evicted"
out_has "kv memory: the keys kept fit in memory_limit" "lru bound=ok"
log_has "kv memory: eviction is logged at notice" "notice.*kv: memory_limit reached: evicted least recently used keys"
stop_checked "kv memory lru"
