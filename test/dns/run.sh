#!/bin/bash
# DNS from handlers (src/dns, Pmilter::DNS) against a real DNS server: Debian's
# unbound serving a test zone on a free loopback port (test/dns/server.sh),
# started and stopped here. First the C API (dnsq, no mruby), then every Ruby
# call through pmilter and pmilter-client. Tests that time out on purpose
# come last in each pmilter, since a resolver that saw timeouts may rate its
# forwarder down for a while (LIBRARY-NOTES.md).
# checks: 72  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh
BUILD=${BUILD:-build/default}
ROOT=$PWD
CLIENT=$ROOT/$BUILD/pmilter-client
DNSQ=$ROOT/$BUILD/dns/dnsq
for tool in unbound python3 jq; do
    command -v $tool >/dev/null || { fail "dns: $tool installed" "missing (scripts/deps.sh)"; suite_exit; }
done
[ -x "$DNSQ" ] && [ -x "$CLIENT" ] || { fail "dns: built" "make test-build first ($DNSQ, $CLIENT)"; suite_exit; }
tmpdir
. test/dns/server.sh
if start_dns_server; then pass "dns: test server starts on port $DNS_PORT"; else fail "dns: test server starts" "see above"; suite_exit; fi
FWD=127.0.0.1@$DNS_PORT

# has NAME TEXT OUTPUT: OUTPUT has the line TEXT.
has() { if grep -qxF -- "$2" <<<"$3"; then pass "$1"; else fail "$1" "no line '$2' in: $(tr '\n' '|' <<<"$3")"; fi; }

## The C API
out=$("$DNSQ" "$FWD" 2000 A two.example AAAA good6.example MX mail.example TXT mail.example \
    PTR 1.0.18.198.in-addr.arpa A nx.example AAAA good.example)
has "dns: C: A, every record" "A two.example: ok 198.18.0.7; 198.18.0.8" "$(sed 's/ok 198.18.0.8; 198.18.0.7/ok 198.18.0.7; 198.18.0.8/' <<<"$out")"
has "dns: C: AAAA" "AAAA good6.example: ok 2001:2::25" "$out"
has "dns: C: TXT joins a record's strings" "TXT mail.example: ok v=spf1 -all; second record" "$(sed 's/ok second record; v=spf1 -all/ok v=spf1 -all; second record/' <<<"$out")"
has "dns: C: PTR name without the trailing dot" "PTR 1.0.18.198.in-addr.arpa: ok good.example" "$out"
has "dns: C: NXDOMAIN is notfound" "A nx.example: notfound" "$out"
has "dns: C: NODATA is notfound" "AAAA good.example: notfound" "$out"
out=$("$DNSQ" "$FWD" 1000 A x.servfail.example A good.example A x.timeout.example)
has "dns: C: SERVFAIL is an error" "A x.servfail.example: error SERVFAIL" "$out"
has "dns: C: a timeout is its own status" "A x.timeout.example: timeout" "$out"
has "dns: C: the others of the batch are answered" "A good.example: ok 198.18.0.1" "$out"
ms=$(sed -n 's/^elapsed //p' <<<"$out")
if [ "$ms" -ge 950 ] && [ "$ms" -lt 1500 ]; then pass "dns: C: a batch with a timeout waits its deadline once ($ms ms)"
else fail "dns: C: a batch with a timeout waits its deadline once" "took $ms ms for a 1000 ms deadline"; fi

## Ruby: one pmilter, one connect handler; the client host name picks the case.
printf 'From: a@example.com\nTo: b@example.org\nSubject: dns\n\nhello\n' >"$T/mail.eml"
# play HOST [IP] [extra client args]: one message; sets PLAY_RC, PLAY_MS, PLAY_OUT.
play() {
    local host=$1 ip=${2:-127.0.0.1}; shift; [ $# -gt 0 ] && shift
    local t0; t0=$(date +%s%N)
    PLAY_OUT=$("$CLIENT" -s "unix:$SOCK" "$T/mail.eml" --client-host "$host" --client-ip "$ip" "$@" 2>&1)
    PLAY_RC=$?
    PLAY_MS=$((($(date +%s%N) - t0) / 1000000))
}
out_has() { if tr -d '\r' <"$PM_OUT" | grep -qxF -- "$2"; then pass "$1"; else fail "$1" "stdout lacks '$2': $(tail -3 "$PM_OUT" | tr '\n' '|')"; fi; }
log_has() { if grep -qE -- "$2" "$PM_ERR"; then pass "$1"; else fail "$1" "log lacks /$2/: $(tail -2 "$PM_ERR" | tr '\n' ' ')"; fi; }
plays() { # NAME RC HOST [IP]: the message gets the exit status RC
    local name=$1 rc=$2; shift 2
    play "$@"
    if [ "$PLAY_RC" = "$rc" ]; then pass "$name"; else fail "$name" "pmilter-client exited $PLAY_RC, want $rc: $(tail -2 <<<"$PLAY_OUT" | tr '\n' ' ')"; fi
}

new_site ruby 'handler_timeout = 3'
printf '[dns]\nresolver = ["%s"]\ntimeout_ms = 1000\n' "$FWD" >>"$CONF"
handler connect '
D = Pmilter::DNS
s = Pmilter::Session.new
case s.client_hostname
when "calls"
  puts "a #{D.a("two.example").sort.join(",")}"
  puts "aaaa #{D.aaaa("good6.example").join(",")}"
  puts "mx #{D.mx("mail.example").inspect}"
  puts "txt #{D.txt("mail.example").sort.inspect}"
  puts "ptr4 #{D.ptr("198.18.0.1").inspect}"
  puts "ptr6 #{D.ptr("2001:2::25").inspect}"
  puts "query #{D.query("mail.example.", "MX").size} #{D.query("good.example", :a).inspect} #{D.query("good.example", 1).inspect}"
  puts "nx #{D.a("nx.example").inspect} nodata #{D.aaaa("good.example").inspect}"
  puts "all #{D.all { |q| q.a("good.example"); q.mx("mail.example"); q.ptr("198.18.0.2"); q.txt("nx.example") }.inspect}"
when "dnsbl"
  puts "dnsbl4 #{D.dnsbl(s.client_ipaddr, ["bl0.example", "bl1.example", "nolist.example"]).inspect}"
  puts "dnsbl6 #{D.dnsbl("2001:2::1", ["bl2.example"]).inspect}"
  puts "dnsbl clean #{D.dnsbl("198.18.0.1", ["bl0.example"]).inspect}"
  puts "rhsbl #{D.rhsbl("spam.example.com", ["bl3.example", "bl4.example"]).inspect}"
when "refusal"
  puts "refusal #{D.dnsbl(s.client_ipaddr, ["bl0.example", "bl1.example"]).inspect}"
when "fcrdns"
  puts "fcrdns good #{D.fcrdns("198.18.0.1").inspect} good6 #{D.fcrdns("2001:2::25").inspect}"
  puts "fcrdns liar #{D.fcrdns("198.18.0.2").inspect} none #{D.fcrdns("198.18.0.3").inspect}"
when "cache"
  puts "cache #{D.a("cached.example").inspect}"
when "badarg"
  begin; D.ptr("not-an-ip"); rescue ArgumentError => e; puts "badarg #{e.class}"; end
  begin; D.query("x.example", "NOPE"); rescue ArgumentError => e; puts "badtype #{e.class}"; end
when "servfail"
  begin
    D.a("x.servfail.example")
  rescue Pmilter::DNS::Timeout
    puts "servfail: wrongly a timeout"
  rescue Pmilter::DNS::Error => e
    puts "servfail #{e.class}: #{e.message}"
  end
when "servfail-uncaught"
  D.txt("y.servfail.example")
when "timeout"
  t = Time.now
  begin
    D.a("x.timeout.example", timeout: 0.5)
  rescue Pmilter::DNS::Timeout => e
    puts "timeout #{e.class} #{((Time.now - t) * 1000).round / 100}"
  end
when "timeout-uncaught"
  D.mx("y.timeout.example")
when "timeout-bounded"
  begin
    D.a("z.timeout.example", timeout: 30)
  rescue Pmilter::DNS::Timeout
    puts "bounded timeout"
  end
when "slow-dnsbl"
  puts "slow dnsbl #{D.dnsbl("127.0.0.2", ["bl5.example", "w.timeout.example"], timeout: 1).inspect}"
end'
handler envfrom '
Pmilter::DNS.a("good.example") if Pmilter::Session.new.client_hostname == "calls"'
if start_pmilter "$CONF"; then pass "dns: pmilter starts with [dns] forwarders"; else fail "dns: pmilter starts" "see above"; suite_exit; fi

plays "dns: ruby: the calls answer (continue)" 0 calls
out_has "dns: ruby: a returns every address" "a 198.18.0.7,198.18.0.8"
out_has "dns: ruby: aaaa" "aaaa 2001:2::25"
out_has "dns: ruby: mx gives [pref, host] sorted by preference" 'mx [[10, "mx1.example"], [20, "mx2.example"]]'
out_has "dns: ruby: txt gives one String per record, strings joined" 'txt ["second record", "v=spf1 -all"]'
out_has "dns: ruby: ptr of an IPv4 address" 'ptr4 ["good.example"]'
out_has "dns: ruby: ptr of an IPv6 address (nibbles)" 'ptr6 ["good6.example"]'
out_has "dns: ruby: query by type name, symbol and number" 'query 2 ["198.18.0.1"] ["198.18.0.1"]'
out_has "dns: ruby: NXDOMAIN and NODATA are empty arrays" 'nx [] nodata []'
out_has "dns: ruby: all answers several questions in order" 'all [["198.18.0.1"], [[10, "mx1.example"], [20, "mx2.example"]], ["liar.example"], []]'
log_has "dns: the message log line names the handlers' DNS time" 'message from .*: continue \(dns [0-9]+ ms\)'

plays "dns: ruby: dnsbl runs" 0 dnsbl 127.0.0.2
out_has "dns: dnsbl gives zone => answer for the listing zones" 'dnsbl4 {"bl0.example"=>"127.0.0.2", "bl1.example"=>"127.0.0.2"}'
out_has "dns: dnsbl reverses IPv6 in nibbles" 'dnsbl6 {"bl2.example"=>"127.0.0.4"}'
out_has "dns: dnsbl of an unlisted address is empty" 'dnsbl clean {}'
out_has "dns: rhsbl looks up domain.zone" 'rhsbl {"bl3.example"=>"127.0.0.2", "bl4.example"=>"127.0.0.2"}'
plays "dns: ruby: refusal runs" 0 refusal 127.0.0.3
out_has "dns: a 127.255.255.x answer is never a listing" 'refusal {}'
log_has "dns: ... and is logged at warn naming the zone" 'warn.*bl0.example answered 127.255.255.254 for 127.0.0.3'
plays "dns: ruby: fcrdns runs" 0 fcrdns
out_has "dns: fcrdns confirms matching PTR/A (IPv4, IPv6)" 'fcrdns good "good.example" good6 "good6.example"'
out_has "dns: fcrdns is nil when A does not match or no PTR" 'fcrdns liar nil none nil'
plays "dns: ruby: bad arguments" 0 badarg
out_has "dns: ptr of a non-address raises ArgumentError" 'badarg ArgumentError'
out_has "dns: an unknown record type raises ArgumentError" 'badtype ArgumentError'

# The cache: the second identical question does not reach the server, even after a reload.
play cache; play cache
out_has "dns: cached name answers" 'cache ["198.18.0.77"]'
n=$(dns_queries cached.example A)
if [ "$n" = 1 ]; then pass "dns: the second identical query is answered from the cache (server saw $n)"
else fail "dns: the second identical query is answered from the cache" "server saw $n queries"; fi
kill -HUP "$PM_PID"
wait_for grep -q "reloaded" "$PM_ERR"
play cache
n=$(dns_queries cached.example A)
if [ "$n" = 1 ] && [ "$PLAY_RC" = 0 ]; then pass "dns: a reload keeps the resolver and its cache (server saw $n)"
else fail "dns: a reload keeps the resolver and its cache" "server saw $n queries, client $PLAY_RC"; fi

plays "dns: ruby: SERVFAIL rescued" 0 servfail
out_has "dns: SERVFAIL raises Pmilter::DNS::Error, not Timeout" 'servfail Pmilter::DNS::Error: x.servfail.example A: SERVFAIL'
log_has "dns: SERVFAIL is logged at info with name, type, ms" 'info.*dns: x.servfail.example A: SERVFAIL after [0-9]+ ms'
plays "dns: an uncaught Pmilter::DNS::Error gives handler_error (tempfail)" 2 servfail-uncaught
log_has "dns: ... with the exception in the log" 'y.servfail.example TXT: SERVFAIL \(Pmilter::DNS::Error\)'

# Timeouts last (see the top).
plays "dns: ruby: timeout rescued" 0 timeout
# tenths of a second waited: 5 (0.5 s) to 9 on a busy machine; [dns] timeout_ms here is 1 s
if grep -qxE 'timeout Pmilter::DNS::Timeout [5-9]' "$PM_OUT"; then pass "dns: a timeout raises Pmilter::DNS::Timeout after timeout: (0.5 s), not timeout_ms"
else fail "dns: a timeout raises Pmilter::DNS::Timeout after timeout: (0.5 s)" "$(grep '^timeout' "$PM_OUT")"; fi
log_has "dns: a timeout is logged at info with name, type, ms" 'info.*dns: x.timeout.example A: timeout after [0-9]+ ms'
plays "dns: an uncaught timeout gives handler_error (tempfail)" 2 timeout-uncaught
log_has "dns: ... with the exception in the log" 'y.timeout.example MX: no answer within [0-9]+ ms \(Pmilter::DNS::Timeout\)'
plays "dns: timeout: is cut to what handler_timeout leaves" 0 timeout-bounded
out_has "dns: ... the handler still answers, the watchdog did not fire" 'bounded timeout'
if [ "$PLAY_MS" -lt 3000 ] && [ "$PLAY_MS" -ge 2500 ]; then pass "dns: ... within handler_timeout (3 s): $PLAY_MS ms"
else fail "dns: ... within handler_timeout" "took $PLAY_MS ms"; fi
plays "dns: a dnsbl zone that times out is left out" 0 slow-dnsbl 127.0.0.2
out_has "dns: ... the other zones still answer" 'slow dnsbl {"bl5.example"=>"127.0.0.2"}'

# A handler waiting on DNS holds its worker and VM only: others are served meanwhile.
play timeout-bounded & waiter=$!
sleep 0.3
play calls
wait $waiter
if [ "$PLAY_RC" = 0 ] && [ "$PLAY_MS" -lt 1000 ]; then pass "dns: another session is served while one waits on DNS ($PLAY_MS ms)"
else fail "dns: another session is served while one waits on DNS" "client $PLAY_RC after $PLAY_MS ms"; fi
stop_pmilter
[ "$PM_STATUS" = 0 ] && pass "dns: pmilter exits 0 (resolver freed)" || fail "dns: pmilter exits 0" "status $PM_STATUS"
check_sanitizer_clean "dns: no sanitizer report"

## Parallel: 10 zones behind a relay that delays every answer by 300 ms.
start_delay_relay 300
new_site parallel
printf '[dns]\nresolver = ["127.0.0.1@%s"]\ntimeout_ms = 2500\n' "$RELAY_PORT" >>"$CONF"
handler connect '
zones = (0..9).map { |i| "bl#{i}.example" }
t = Time.now
hits = Pmilter::DNS.dnsbl(Pmilter::Session.new.client_ipaddr, zones)
puts "parallel #{hits.size} #{((Time.now - t) * 1000).round}"'
start_pmilter "$CONF" || fail "dns: parallel pmilter starts" "see above"
play p 127.0.0.2
ms=$(sed -n 's/^parallel 10 //p' "$PM_OUT")
if [ -n "$ms" ] && [ "$ms" -lt 800 ]; then pass "dns: 10 DNSBL zones in parallel take about one query (${ms} ms, one is 300 ms)"
else fail "dns: 10 DNSBL zones in parallel" "got '$(cat "$PM_OUT")' (10 serial queries would take 3000 ms)"; fi
stop_pmilter

## Many sessions at once, each asking DNS (warm, cold, a dead zone): no error,
## no verdict lost, a clean exit (run it under ASan/UBSan: make asan-test).
new_site load
printf '[dns]\nresolver = ["%s"]\n' "$FWD" >>"$CONF"
handler envfrom '
zones = %w[bl0.example bl1.example bl2.example bl3.example bl4.example]
case rand(3)
when 0 then Pmilter::DNS.dnsbl("127.0.0.2", zones, timeout: 1)
when 1 then Pmilter::DNS.dnsbl("10.#{rand(256)}.#{rand(256)}.#{rand(256)}", zones, timeout: 1)
else Pmilter::DNS.dnsbl("127.0.0.2", zones.first(2) + ["v.timeout.example"], timeout: 0.2)
end'
start_pmilter "$CONF" || fail "dns: load pmilter starts" "see above"
json=$("$CLIENT" --load -s "unix:$SOCK" -c 8 -t 2 -b 500 --json)
if jq -e '.messages > 0 and .errors == 0 and .verdicts.continue == .messages' <<<"$json" >/dev/null; then
    pass "dns: 8 sessions at once asking DNS: every message answered ($(jq .messages <<<"$json") messages)"
else fail "dns: 8 sessions at once asking DNS" "$json"; fi
stop_pmilter
[ "$PM_STATUS" = 0 ] && pass "dns: load: pmilter exits 0" || fail "dns: load: pmilter exits 0" "status $PM_STATUS"
check_sanitizer_clean "dns: load: no sanitizer report"

## The recipes of docs/dns.md, with the real zone names: a hosts file lists
## 127.0.0.2 on zen.spamhaus.org; the other lists are refused by the test server.
recipe() { awk -v n="$1" '/^```ruby$/ { i++; on = (i == n); next } /^```$/ { on = 0 } on' docs/dns.md; }
new_site recipes
printf '127.0.0.2 2.0.0.127.zen.spamhaus.org\n' >"$D/hosts"
printf '[dns]\nresolver = ["%s"]\ntimeout_ms = 1000\nhosts_file = "hosts"\n' "$FWD" >>"$CONF"
handler connect "$(recipe 1)
$(recipe 2)"
handler envfrom "$(recipe 3)"
start_pmilter "$CONF" || fail "dns: recipes pmilter starts" "see above"
plays "dns: recipe DNSBL: a listed client is rejected" 1 listed 127.0.0.2
if grep -q '554 5.7.1 127.0.0.2 is listed by zen.spamhaus.org (127.0.0.2)' <<<"$PLAY_OUT"; then pass "dns: recipe DNSBL: the reply names the list"
else fail "dns: recipe DNSBL: the reply names the list" "$(tr '\n' ' ' <<<"$PLAY_OUT")"; fi
plays "dns: recipe FCrDNS and MX: a confirmed client with a good sender passes" 0 good 198.18.0.1 --from '<a@mail.example>'
if [ "$PLAY_RC" = 0 ] && grep -q "message from <a@mail.example>" "$PM_ERR" && ! grep -q "no FCrDNS for 198.18.0.1" "$PM_OUT"; then pass "dns: recipe FCrDNS: confirmed name"; else fail "dns: recipe FCrDNS: confirmed name" "$(cat "$PM_OUT")"; fi
plays "dns: recipe FCrDNS: a liar is not confirmed (still passes)" 0 liar 198.18.0.2 --from '<a@mail.example>'
out_has "dns: recipe FCrDNS: ... and says so" "no FCrDNS for 198.18.0.2"
plays "dns: recipe MX: a sender domain without MX or address is rejected" 1 good 198.18.0.1 --from '<a@nx.example>'
if grep -q '550 5.1.8 sender domain nx.example has no MX or address' <<<"$PLAY_OUT"; then pass "dns: recipe MX: the reply says why"
else fail "dns: recipe MX: the reply says why" "$(tr '\n' ' ' <<<"$PLAY_OUT")"; fi
stop_pmilter

## Config errors
new_site badconf
printf '[dns]\nresolver = "sometimes"\n' >>"$CONF"
msg=$("$PMILTER" -t -c "$CONF" 2>&1); rc=$?
if [ $rc = 78 ] && grep -q 'pmilter.conf:[0-9]*: dns.resolver: expected "system", "recursive" or a list' <<<"$msg"; then pass "dns: a bad resolver is a config error naming the line"
else fail "dns: a bad resolver is a config error" "status $rc: $msg"; fi
new_site badconf2
printf '[dns]\ntimeout_ms = 0\n' >>"$CONF"
msg=$("$PMILTER" -t -c "$CONF" 2>&1); rc=$?
if [ $rc = 78 ] && grep -q 'dns.timeout_ms: 0 is out of range' <<<"$msg"; then pass "dns: timeout_ms out of range is a config error"
else fail "dns: timeout_ms out of range is a config error" "status $rc: $msg"; fi
suite_exit
