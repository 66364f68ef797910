# Operations metrics (issue 16): MTA-to-verdict time per message, handler
# errors by exception class, the VM pool (size, busy, waits, replacements),
# the config generation, limits hit in Session#mime, and the DNS and MIME
# layers' own counters. One pmilter with one VM (so a second handler waits),
# a real unbound for DNS (test/dns/server.sh), messages from pmilter-client.
# Sourced by test/metrics/run.sh (uses its send, scrape, sample_is).
. test/dns/server.sh
start_dns_server || fail "ops: DNS test server starts" "see above"
new_site ops 'min_worker = 1' 'max_worker = 1' 'handler_timeout = 2'
PORT=$(free_port)
printf '[metrics]\nlisten = "127.0.0.1:%s"\n[dns]\nresolver = ["127.0.0.1@%s"]\n[mime]\nmax_parts = 2\n[kv]\nmemory_limit = 1\n' "$PORT" "$DNS_PORT" >>"$CONF"
handler envfrom '
cmd = Pmilter::Session.new.envelope_from.sub("<", "").split("@")[0]
case cmd
when "boom" then raise "boom"
when "nomethod" then nil.frobnicate
when "busy" then t = Time.now; while Time.now - t < 0.6; end
when "kvfill" then 200.times { |i| Pmilter::KV.set("fill#{i}", "x" * 10000) }
when "slow" then t = Time.now; while Time.now - t < 4; end
when "dns"
  Pmilter::DNS.a("good.example")
  Pmilter::DNS.a("nx.example")
  begin; Pmilter::DNS.a("x.servfail.example"); rescue Pmilter::DNS::Error; end
  begin; Pmilter::DNS.a("x.timeout.example", timeout: 0.3); rescue Pmilter::DNS::Timeout; end
end'
handler eom 's = Pmilter::Session.new
s.mime.parts if s.envelope_from.include?("mime")'
{ printf 'From: a@x\nTo: b@y\nSubject: parts\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
  for i in 1 2 3; do printf -- '--b\nContent-Type: text/plain\n\npart %s\n' "$i"; done; printf -- '--b--\n'; } >"$T/three-parts.eml"
start_pmilter "$CONF" || { fail "ops: start" "$(tail -3 "$PM_ERR")"; return; }
scrape
sample_is "ops: config generation 1 at start" "pmilter_config_generation" 1
sample_is "ops: one VM" "pmilter_vm_pool_size" 1
sample_is "ops: no message timed yet" "pmilter_message_duration_seconds_count" 0
for i in 1 2 3; do send ok; done
send boom; send nomethod
"$CLIENT" -s "unix:$SOCK" --from "<mime@x>" "$T/three-parts.eml" >/dev/null 2>&1
send dns
wait_for sessions_closed
scrape
# 3 ok + dns reach eom (continue); boom and nomethod end at envfrom; mime fails at eom.
sample_is "ops: MTA-to-verdict histogram counts every message" "pmilter_message_duration_seconds_count" 7
sample_is "ops: its +Inf bucket too" 'pmilter_message_duration_seconds_bucket{le="+Inf"}' 7
check "ops: the dns message took at least its 0.3 s DNS timeout" \
    awk '$1 == "pmilter_message_duration_seconds_sum" { exit !($2 >= 0.3) }' "$T/samples"
sample_is "ops: errors by class: RuntimeError" 'pmilter_handler_errors_total{class="RuntimeError",phase="envfrom"}' 1
sample_is "ops: errors by class: NoMethodError" 'pmilter_handler_errors_total{class="NoMethodError",phase="envfrom"}' 1
sample_is "ops: errors by class: MIME limit at eom" 'pmilter_handler_errors_total{class="Pmilter::MIME::LimitError",phase="eom"}' 1
sample_is "ops: limits hit: mime.max_parts" 'pmilter_limits_hit_total{limit="mime.max_parts"}' 1
sample_is "ops: limits hit: mime.max_depth not" 'pmilter_limits_hit_total{limit="mime.max_depth"}' 0
sample_is "ops: one MIME parse" "pmilter_mime_parses_total" 1
sample_is "ops: DNS queries" "pmilter_dns_queries_total" 4
sample_is "ops: DNS answers ok" 'pmilter_dns_answers_total{status="ok"}' 1
sample_is "ops: DNS answers notfound" 'pmilter_dns_answers_total{status="notfound"}' 1
sample_is "ops: DNS answers error (SERVFAIL)" 'pmilter_dns_answers_total{status="error"}' 1
sample_is "ops: DNS timeouts" 'pmilter_dns_answers_total{status="timeout"}' 1
check "ops: DNS wait time includes the 0.3 s timeout" \
    awk '$1 == "pmilter_dns_wait_seconds_total" { exit !($2 >= 0.3 && $2 < 10) }' "$T/samples"
sample_is "ops: no KV eviction yet" "pmilter_kv_evictions_total" 0
send kvfill
scrape
check "ops: 2 MB into a 1 MiB kv.memory_limit: evictions counted" \
    awk '$1 == "pmilter_kv_evictions_total" { exit !($2 >= 50 && $2 < 200) }' "$T/samples"
sample_is "ops: KV calls counted" "pmilter_kv_calls_total" 200
sample_is "ops: no VM busy between messages" "pmilter_vm_pool_busy" 0
sample_is "ops: no wait for a VM yet" "pmilter_vm_pool_waits_total" 0

# Three 0.6 s handlers at once on one VM: the later ones wait for it.
busy=()
for i in 1 2 3; do send busy & busy+=($!); done
wait "${busy[@]}"
waited() { scrape && awk '$1 == "pmilter_vm_pool_waits_total" { exit !($2 >= 1) }' "$T/samples"; }
check "ops: borrows that waited for the one VM are counted" waited
sample_is "ops: VM busy back to 0" "pmilter_vm_pool_busy" 0

kill -USR1 "$PM_PID"
regenerated() { scrape && grep -qxF 'pmilter_config_generation 2' "$T/samples"; }
check "ops: config generation 2 after a reload" wait_for regenerated

# A handler past handler_timeout (2 s): the watchdog gives its VM up at once
# (the pool makes another), and the run counts as an error when it returns.
send slow
send ok
scrape
sample_is "ops: watchdog kill counted" "pmilter_watchdog_kills_total" 1
sample_is "ops: VM replacement counted" "pmilter_vm_replacements_total" 1
sample_is "ops: the late handler still holds its VM" "pmilter_vm_pool_busy" 1
sample_is "ops: pool size: the replacement VM" "pmilter_vm_pool_size" 1
timed_out() { scrape && grep -qxF 'pmilter_handler_errors_total{class="timeout",phase="envfrom"} 1' "$T/samples"; }
check "ops: a handler back after handler_timeout is an error of class timeout" wait_for timed_out
sample_is "ops: its VM is no longer busy" "pmilter_vm_pool_busy" 0
stop_pmilter
check_sanitizer_clean "ops: no sanitizer report"
