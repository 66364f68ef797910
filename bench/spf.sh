#!/bin/bash
# bench/spf.sh: Session#spf per message with a warm DNS cache. test/dns's unbound
# on loopback serves a record that needs 4 DNS-querying terms (mx, a, include,
# then ip4 in the included record: 6 questions) and passes 127.0.0.1.
# pmilter-client --load sends messages for SECS s on CONNS connections, first
# with an envfrom handler that does nothing, then with one that calls s.spf;
# prints msg/s and latency for both, and the median and p90 of the handler's
# own µs per message (Time.now around s.spf, from a one-connection run).
# Environment: SECS (default 5), CONNS (default 4), BUILD, PMILTER.
cd "$(dirname "$0")/.." || exit 1
. test/lib.sh
SECS=${SECS:-5}
CONNS=${CONNS:-4}
CLIENT=$PWD/pmilter-client
tmpdir
cat >"$T/zone" <<'ZONE'
    local-data: 'bench.spf.example. TXT "v=spf1 mx a:host.bench.spf.example include:_spf.bench.spf.example -all"'
    local-data: 'bench.spf.example. MX 10 mx.bench.spf.example.'
    local-data: 'mx.bench.spf.example. A 198.18.5.1'
    local-data: 'host.bench.spf.example. A 198.18.5.2'
    local-data: '_spf.bench.spf.example. TXT "v=spf1 ip4:198.18.5.0/24 ip4:127.0.0.0/8 -all"'
ZONE
DNS_EXTRA=$T/zone
. test/dns/server.sh
start_dns_server || exit 1
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
s = Pmilter::Session.new
case s.envelope_from
when "<a@bench.spf.example>"
  r = s.spf
  Pmilter.status = Pmilter::SMFIS_TEMPFAIL unless r.result == "pass"
when "<timed@bench.spf.example>"
  t = Time.now
  r = s.spf
  puts "us #{((Time.now - t) * 1_000_000).round} #{r.result}"
end
RUBY
start_pmilter "$D/pmilter.conf" || exit 1
load() { "$CLIENT" --load -s "unix:$SOCK" -c "${2:-$CONNS}" -t "$SECS" -b 1000 --from "$1" --to '<b@x>' --json; }
row() { jq -r --arg what "$1" '"\($what)\t\(.msgs_per_sec|floor)\t\(.latency_ms.p50)\t\(.latency_ms.p99)\t\(.errors + .verdicts.tempfail)"'; }
echo "== Session#spf per message, warm cache, $CONNS connections, $SECS s each"
printf 'case\tmsgs/s\tp50 ms\tp99 ms\terrors+tempfail\n'
load '<none@x>' | row "no SPF (handler only)"
load '<a@bench.spf.example>' | row "s.spf (pass after 6 questions)"
load '<timed@bench.spf.example>' 1 >/dev/null
python3 - "$PM_OUT" <<'PY'
import statistics, sys
v = sorted(int(l.split()[1]) for l in open(sys.argv[1]) if l.startswith("us ") and l.split()[2] == "pass")
print(f"s.spf in the handler (1 connection, {len(v)} messages): median {statistics.median(v):.0f} us, p90 {v[int(len(v) * 0.9)]} us")
PY
stop_pmilter
