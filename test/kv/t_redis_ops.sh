# What a Pmilter::KV call sends to Redis, as Redis itself counts it (INFO
# commandstats): mget is one MGET for any number of keys; incr with a TTL is one
# MULTI, SET NX, INCRBY and EXEC, sent together. Keys and values with NUL, CR,
# LF, spaces or 10000 bytes go through unchanged, as do the extreme increments.
kv_site ops redis
cp test/kv/handler_ops.rb "$D/handler/envfrom.rb"
start_pmilter "$CONF" || fail "kv redis ops: start" "pmilter did not start"
rcli() { redis-cli -s "$REDIS_SOCK" "$@"; }
# calls CMD: how many times Redis ran CMD since the last CONFIG RESETSTAT (0 if never).
calls() { local n; n=$(rcli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p"); echo "${n:-0}"; }
# counted NAME WANT CMD...: Redis ran each CMD the number of times in WANT ("1 0 ...").
counted() {
    local name=$1 want=$2 got="" c; shift 2
    for c in "$@"; do got="$got$(calls "$c") "; done
    if [ "$got" = "$want " ]; then pass "$name"; else fail "$name" "calls of $*: $got, want $want"; fi
}

send setup
rcli CONFIG RESETSTAT >/dev/null
send mget
out_has "kv redis: mget returns values in order, nil when absent, bytes unchanged" \
    'mget=["1", nil, "nul\x00and\r\nCRLF", "long key", "2"]'
out_has "kv redis: mget of no keys is [] (nothing sent)" "mget-none=[]"
out_has "kv redis: mget of 200 absent keys gives 200 nils" "mget-many=0"
counted "kv redis: each mget is one MGET (two with keys, one empty: 2 MGETs, no GET)" "2 0" mget get
send mget-bad
out_has "kv redis: mget with a key that is not a String raises TypeError" "mget-bad=TypeError"

rcli CONFIG RESETSTAT >/dev/null
send incr
out_has "kv redis: incr with a TTL counts and keeps the first TTL" "incr=1 3 ttl=30"
out_has "kv redis: incr by the least 64-bit integer" "incr-min=-9223372036854775808"
out_has "kv redis: incr by the greatest 64-bit integer" "incr-max=9223372036854775807"
counted "kv redis: incr with a TTL is MULTI, SET NX, INCRBY, EXEC (4 incrs), no script" "4 4 4 4 0 0" \
    multi set incrby exec eval evalsha
stop_checked "kv redis ops"

# mget while Redis is down: Pmilter::KV::Error, as for every other call.
kv_site ops-down redis
cp test/kv/handler_ops.rb "$D/handler/envfrom.rb"
sed -i "s|^url = .*|url = \"unix:$T/no-such-redis.sock\"|" "$CONF"
start_pmilter "$CONF" || fail "kv redis ops-down: start" "pmilter did not start"
send down
out_has "kv redis: mget with Redis down raises Pmilter::KV::Error" "mget-down=Pmilter::KV::Error"
stop_checked "kv redis ops-down"
