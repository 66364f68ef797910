#!/bin/bash
# bench/auth.sh: an eom handler that verifies one DKIM signature (rsa-sha256,
# 2048-bit key, dkimpy-signed) and, when Session#spf exists, checks SPF, with a
# warm DNS cache: the key comes from a private unbound (test/dns/server.sh) and
# is cached by pmilter's resolver after the first message. Sends N messages one
# after another (one pmilter-client process each, so msg/s includes that
# process's start) and prints msg/s and the median and p90 of the handler's
# own µs per message (Time.now around the calls).
# Environment: N (default 300), PMILTER, CLIENT.
cd "$(dirname "$0")/.."
ROOT=$PWD
PMILTER=${PMILTER:-$ROOT/pmilter} CLIENT=${CLIENT:-$ROOT/pmilter-client} N=${N:-300}
. test/lib.sh
. test/auth/lib.sh
tmpdir
make_keys "$T"
echo "rsa._domainkey.a.example v=DKIM1; k=rsa; p=$(cat "$T/rsa.pub")" >"$T/zone.txt"
DNS_EXTRA=$T/extra.conf
while read -r name value; do txt_data "$name" "$value"; done <"$T/zone.txt" >"$DNS_EXTRA"
export DNS_EXTRA
. test/dns/server.sh
start_dns_server >/dev/null
{ printf 'From: <alice@a.example>\r\nTo: <bob@example.net>\r\nSubject: bench\r\nDate: Mon, 30 Nov 2026 02:00:00 +0000\r\n\r\n'
  for i in $(seq 40); do printf 'A line of body text, repeated to make a 2 KB message.\r\n'; done; } >"$T/plain.eml"
dkimpy_sign "$T/plain.eml" "$T/m.eml" a.example rsa "$T/rsa.pem"
mkdir -p "$T/handler"
cat >"$T/handler/eom.rb" <<'RB'
s = Pmilter::Session.new
t = Time.now
d = s.dkim
spf = s.respond_to?(:spf) ? s.spf.result : "-"
puts "us #{((Time.now - t) * 1_000_000).round} #{d.map(&:result).join(",")} #{spf}"
RB
printf '[server]\nlisten = "%s/pm.sock"\nlog_level = "warn"\n[dns]\nresolver = ["127.0.0.1@%s"]\n[handler.session]\nmruby_eom_handler = "handler/eom.rb"\n' \
    "$T" "$DNS_PORT" >"$T/pmilter.conf"
start_pmilter "$T/pmilter.conf"
"$CLIENT" -s "unix:$T/pm.sock" "$T/m.eml" >/dev/null # warms the cache
start=$(date +%s.%N)
for i in $(seq "$N"); do "$CLIENT" -s "unix:$T/pm.sock" "$T/m.eml" --client-ip 198.18.0.1 >/dev/null; done
end=$(date +%s.%N)
stop_pmilter
/usr/bin/python3 - "$PM_OUT" "$N" "$start" "$end" "$(wc -c <"$T/m.eml")" "$(dns_queries rsa._domainkey.a.example TXT)" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith("us ")][1:]  # the first warmed the cache
v = sorted(int(r[1]) for r in rows)
n, secs = int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
print(f"auth bench: {sys.argv[5]} byte message, {len(v)}/{n} handled, dkim {set(r[2] for r in rows)}, spf {set(r[3] for r in rows)}; "
      f"{n / secs:.0f} msg/s sequential; eom median {statistics.median(v):.0f} us, p90 {v[int(len(v) * 0.9)]} us; "
      f"key queries at the DNS server: {sys.argv[6]}")
PY
