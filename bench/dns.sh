#!/bin/bash
# make bench-dns: (1) libunbound against the libc resolver, through a relay that
# delays every answer 300 ms: 10 DNSBL questions one after the other (libc) or
# at once (src/dns), and how often a name asked twice reaches the server;
# (2) a DNSBL handler (5 zones, test/dns's unbound on loopback) under
# pmilter-client --load: messages/s with no DNS, a warm cache, a cold cache
# (a random client address per message), with one zone timing out (1 s), and
# warm-cache sessions while timing-out sessions run beside them.
# Environment: SECS per measurement (default 5), CONNS (default 4), BUILD, PMILTER.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
BUILD=${BUILD:-build/default}
SECS=${SECS:-5}
CONNS=${CONNS:-4}
CLIENT=$PWD/pmilter-client
tmpdir
. test/dns/server.sh
start_dns_server || exit 1
start_delay_relay 300

echo "== libunbound against libc (every answer delayed 300 ms)"
"$BUILD/dns/dns_compare" "$RELAY_PORT" good.example mx1.example $(for i in 0 1 2 3 4 5 6 7 8 9; do echo bl$i.example; done)
echo "libc: good.example asked twice reached the server $(dns_queries good.example A) time(s)"
echo "libunbound: mx1.example asked twice reached the server $(dns_queries mx1.example A) time(s)"

D=$T/bench
mkdir -p "$D/handler"
SOCK=$D/pm.sock
cat >"$D/pmilter.conf" <<CONF
[server]
listen = "$SOCK"
log_level = "warn"
[dns]
resolver = ["127.0.0.1@$DNS_PORT"]
[handler.session]
mruby_envfrom_handler = "handler/envfrom.rb"
CONF
cat >"$D/handler/envfrom.rb" <<'RUBY'
zones = %w[bl0.example bl1.example bl2.example bl3.example bl4.example]
ip = "127.0.0.2"
case Pmilter::Session.new.envelope_from
when "<none@x>" then zones = []
when "<cold@x>" then ip = "10.#{rand(256)}.#{rand(256)}.#{rand(256)}"
when "<slow@x>" then zones = zones.first(4) + ["w.timeout.example"]
end
Pmilter::DNS.dnsbl(ip, zones, timeout: 1) unless zones.empty?
RUBY
start_pmilter "$D/pmilter.conf" || exit 1

# load FROM [CONNS]: one JSON summary
load() { "$CLIENT" --load -s "unix:$SOCK" -c "${2:-$CONNS}" -t "$SECS" -b 1000 --from "$1" --to '<b@x>' --json; }
row() { jq -r --arg what "$1" '"\($what)\t\(.msgs_per_sec|floor)\t\(.latency_ms.p50)\t\(.latency_ms.p99)\t\(.errors + .verdicts.tempfail)"'; }
echo "== DNSBL handler, 5 zones, $CONNS connections, $SECS s each"
printf 'case\tmsgs/s\tp50 ms\tp99 ms\terrors+tempfail\n'
load '<none@x>' | row "no DNS (handler only)"
load '<warm@x>' | row "5 zones, warm cache"
load '<cold@x>' | row "5 zones, cold cache"
load '<warm@x>' | row "5 zones, warm again"
load '<slow@x>' | row "one zone times out (1 s)"
load "<slow@x>" >"$T/slow.json" & slow_pid=$!
sleep 0.5
load '<warm@x>' | row "warm, while $CONNS slow sessions wait"
wait $slow_pid
row "... the slow sessions meanwhile" <"$T/slow.json"
load '<warm@x>' | row "warm, after the timeouts"
stop_pmilter
