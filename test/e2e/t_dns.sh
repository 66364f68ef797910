# DNS from handlers behind Postfix (instance A, sourced by test/e2e/run.sh):
# a client listed on a DNSBL gets a 5xx at MAIL FROM whose text names the
# zone; the same client passes when no zone lists it. The DNS server is
# test/dns's unbound (test/dns/server.sh), on a free loopback port.
source test/dns/server.sh

t_dns_dnsbl() {
    must "the test DNS server did not start (see above)" start_dns_server || return 1
    local conf
    conf=$(pm_conf dnsbl "unix:$SOCK" envfrom=dnsbl.rb)
    printf '\n[dns]\nresolver = ["127.0.0.1@%s"]\n' "$DNS_PORT" >>"$conf"
    cat >"$FX/dnsbl.rb" <<'RUBY'
s = Pmilter::Session.new
zones = s.envelope_from.include?("clean") ? ["bl8.example"] : ["bl8.example", "bl9.example"]
listed = Pmilter::DNS.dnsbl(s.client_ipaddr, zones, timeout: 2)
unless listed.empty?
  zone, answer = listed.first
  s.set_reply("554", "5.7.1", "#{s.client_ipaddr} is listed by #{zone} (#{answer})")
  s.reject!
end
RUBY
    pm_up "$conf" || return 1
    send --from alice@example.com --to bob@example.org
    must "expected 554 at MAIL FROM, got '$(pf_reply "$T/swaks.out" "MAIL FROM")'" reply_is 554 "MAIL FROM" || return 1
    local text
    text=$(pf_reply_text "$T/swaks.out" "MAIL FROM")
    must "the reply does not name the zone: '$text'" grep -q "554 5.7.1 127.0.0.1 is listed by bl9.example (127.0.0.2)" <<<"$text" || return 1
    must "a message was delivered or queued" nothing_delivered
}
run_test dns-dnsbl-listed-client-gets-5xx-naming-the-zone t_dns_dnsbl

t_dns_clean() {
    [ "$PM_STARTED" = 1 ] || { why="pmilter is not running (see the test above)"; return 1; }
    send_ok 1 --from clean@example.com --to bob@example.org
}
run_test dns-dnsbl-unlisted-client-passes t_dns_clean
pm_stop dns-dnsbl
