# Every Pmilter::KV call, TTLs, atomicity and reloads: sourced by run.sh once
# per backend ($BACKEND), with the same expectations for both.
B=$BACKEND
kv_site "calls-$B" "$B"
start_pmilter "$CONF" || fail "kv $B: start" "pmilter did not start"

send calls
out_has "kv $B: set returns true" "set=true"
out_has "kv $B: get returns the String" 'get="1"'
out_has "kv $B: add of an existing key is false and keeps the value" 'add-existing=false get="1"'
out_has "kv $B: add of a new key stores an Integer as text with its TTL" 'add-new=true get="5" ttl=10'
out_has "kv $B: incr adds 1, by, and negative by" "incr=2 12 10"
out_has "kv $B: incr creates with the TTL and keeps it after" "incr-new=2 4 ttl=30"
out_has "kv $B: ttl is nil without TTL and for an absent key" "ttl-none=nil ttl-absent=nil"
out_has "kv $B: expire sets a TTL; false for an absent key" "expire=true ttl=100 expire-absent=false"
out_has "kv $B: mget gives nil for absent keys, in order" 'mget=["10", nil, "5"]'
out_has "kv $B: delete is true once, then the key is gone" "delete=true false get=nil"
out_has "kv $B: incr of text raises Pmilter::KV::Error" "incr-text=Pmilter::KV::Error"
out_has "kv $B: a Float value raises TypeError" "float=TypeError"
out_has "kv $B: an unknown or missing keyword, or too many or too few arguments, raise ArgumentError and store nothing" \
    "kwargs-bad=ArgumentError,ArgumentError,ArgumentError,ArgumentError,ArgumentError,ArgumentError,ArgumentError e=nil"
out_has "kv $B: a Symbol key is its name; ttl: sets the TTL; rate_limit takes a Float limit; a Hash is no increment" \
    "kwargs-ok=1 3 ttl=9 true false TypeError"
out_has "kv $B: incr of 007, -0, \" 5\" and +5 raises KV::Error as Redis's INCRBY does; \"0\" counts" \
    "not-integers=Error,Error,Error,Error,1"

# TTL expiry: the key set with ttl: 2 is there at once, gone after 2.3 s.
send ttl; send ttl; sleep 2.3; send ttl
got=$(grep '^t=' "$PM_OUT" | tr '\n' ' ')
if [ "$got" = 't=nil t="x" t=nil ' ]; then pass "kv $B: a key expires after its TTL"
else fail "kv $B: a key expires after its TTL" "got $got"; fi

# Atomicity: 8 concurrent sessions each incr 1000 times: exactly 8000.
concurrently 8 inc
send read
out_has "kv $B: 8 sessions x 1000 concurrent incr give exactly 8000" "n=8000"
# add by 8 concurrent sessions: exactly one true.
concurrently 8 add
adds="$(grep -c '^add=true$' "$PM_OUT") $(grep -c '^add=false$' "$PM_OUT")"
if [ "$adds" = "1 7" ]; then pass "kv $B: add by 8 concurrent sessions: exactly one true"
else fail "kv $B: add by 8 concurrent sessions: exactly one true" "true/false counts: $adds"; fi

# Data survives a SIGUSR1 reload (new VMs, new generation).
send setr
kill -USR1 "$PM_PID"
wait_for grep -q "reloaded" "$PM_ERR" || fail "kv $B: reload" "no 'reloaded' log line"
send getr
out_has "kv $B: a SIGUSR1 reload keeps the stored data" 'r="kept"'

# rate_limit: 100 messages pass, the 101st gets tempfail.
st=""; for i in $(seq 1 101); do send rl; st="$st$?"; done
if [ "$st" = "$(printf '0%.0s' $(seq 1 100))2" ]; then pass "kv $B: rate_limit lets 100 through, the 101st tempfails"
else fail "kv $B: rate_limit lets 100 through, the 101st tempfails" "exit statuses $st"; fi
stop_clean() { stop_pmilter; if [ "$PM_STATUS" = 0 ]; then pass "$1"; else fail "$1" "status $PM_STATUS"; fi; check_sanitizer_clean "$1: no sanitizer report"; }
stop_clean "kv $B: exits 0 on SIGTERM"
