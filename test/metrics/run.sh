#!/bin/bash
# Prometheus metrics (src/metrics, docs/metrics.md): a real pmilter with
# [metrics] listen on a loopback port, messages sent with pmilter-client, the
# endpoint fetched with curl and parsed by prometheus_client's text-format
# parser (samples.py); counts checked exactly against what was sent. Also
# sd_notify against a test NOTIFY_SOCKET (t_notify.sh).
# checks: 147  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh
trap _run_cleanup EXIT
PMILTER=${PMILTER:-./pmilter}
CLIENT=${CLIENT:-./pmilter-client}
# Debian's python3, where python3-prometheus-client installs (a pyenv shim may shadow it).
PY=/usr/bin/python3
for tool in curl "$PY" "$CLIENT"; do
    command -v "$tool" >/dev/null || { fail "metrics" "$tool not found (scripts/deps.sh, make test-build)"; exit 1; }
done
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
    { fail "metrics" "python3-prometheus-client missing (scripts/deps.sh)"; exit 1; }
# The registry from C first (test_metrics.c; make test-build builds it).
BUILD=${BUILD:-build/default}
if [ -x "$BUILD/metricstest/test_metrics" ]; then "$BUILD/metricstest/test_metrics"
else fail "metrics: test_metrics" "not built ($BUILD/metricstest/test_metrics: make test-build)"; fi

tmpdir
printf 'From: a@x\nTo: b@y\nSubject: m\n\nhello\n' >"$T/mail.eml"

# free_port: a loopback TCP port nobody listens on now.
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# metrics_site NAME [metrics line ...]: a site with test/metrics/handler.rb
# for envfrom, an empty eom handler and a [metrics] table with the lines;
# [server] gets the lines in the array SERVER_LINES.
SERVER_LINES=()
metrics_site() {
    D=$T/$1; shift; mkdir -p "$D/handler"
    cp test/metrics/handler.rb "$D/handler/envfrom.rb"; echo '# nothing' >"$D/handler/eom.rb"
    SOCK=$D/pm.sock CONF=$D/pmilter.conf PORT=$(free_port)
    { echo '[server]'; echo "listen = \"$SOCK\""; echo 'log_level = "info"'; printf '%s\n' "${SERVER_LINES[@]}"
      echo '[metrics]'; echo "listen = \"127.0.0.1:$PORT\""; printf '%s\n' "$@"
      echo '[handler.session]'; echo 'mruby_envfrom_handler = "handler/envfrom.rb"'
      echo 'mruby_eom_handler = "handler/eom.rb"'; } >"$CONF"
}
send() { "$CLIENT" -s "unix:$SOCK" --from "<$1@x>" "$T/mail.eml" >/dev/null 2>&1; }
# scrape: the endpoint's samples, parsed, into $T/samples; fails if the
# parser rejects the text.
scrape() { curl -sf "http://127.0.0.1:$PORT/metrics" >"$T/raw" && "$PY" test/metrics/samples.py <"$T/raw" >"$T/samples"; }
# sample_is NAME SAMPLE VALUE: the parsed scrape has exactly this sample.
sample_is() {
    local got; got=$(grep -F -- "$2 " "$T/samples" | grep -vF -- "_created" | head -1)
    if [ "$got" = "$2 $3" ]; then pass "$1"; else fail "$1" "want '$2 $3', got '${got:-nothing}'"; fi
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
sessions_closed() { scrape && grep -qxF 'pmilter_sessions_open 0' "$T/samples"; }

# --- counts exact against what was sent ---
metrics_site counts
start_pmilter "$CONF" || { fail "metrics: start" "pmilter did not start"; exit 1; }
check "metrics: endpoint answers before any message" scrape
sample_is "metrics: no session yet" "pmilter_sessions_total" 0
for i in 1 2 3 4 5; do send good; done
send bad; send bad; send boom
wait_for sessions_closed
check "metrics: the scrape parses with prometheus_client's parser" scrape
sample_is "metrics: accepted messages" 'pmilter_messages_total{verdict="continue"}' 5
sample_is "metrics: rejected messages" 'pmilter_messages_total{verdict="reject"}' 2
sample_is "metrics: a raising handler's message is tempfailed" 'pmilter_messages_total{verdict="tempfail"}' 1
sample_is "metrics: envfrom continue" 'pmilter_verdicts_total{phase="envfrom",verdict="continue"}' 5
sample_is "metrics: envfrom reject" 'pmilter_verdicts_total{phase="envfrom",verdict="reject"}' 2
sample_is "metrics: envfrom tempfail" 'pmilter_verdicts_total{phase="envfrom",verdict="tempfail"}' 1
sample_is "metrics: eom continue" 'pmilter_verdicts_total{phase="eom",verdict="continue"}' 5
sample_is "metrics: handler errors by phase and class" 'pmilter_handler_errors_total{class="RuntimeError",phase="envfrom"}' 1
sample_is "metrics: envfrom histogram count = messages" 'pmilter_handler_duration_seconds_count{phase="envfrom"}' 8
sample_is "metrics: eom histogram count = messages that reached eom" 'pmilter_handler_duration_seconds_count{phase="eom"}' 5
sample_is "metrics: +Inf bucket = count" 'pmilter_handler_duration_seconds_bucket{le="+Inf",phase="envfrom"}' 8
check "metrics: histogram is a histogram" grep -qxF '# histogram pmilter_handler_duration_seconds' "$T/samples"
check "metrics: smallest bucket is 10 µs" grep -qF 'pmilter_handler_duration_seconds_bucket{le="1e-05",phase="envfrom"}' "$T/samples"
check "metrics: largest bucket is 10 s" grep -qF 'pmilter_handler_duration_seconds_bucket{le="10",phase="envfrom"}' "$T/samples"
sample_is "metrics: sessions total" "pmilter_sessions_total" 8
sample_is "metrics: sessions open" "pmilter_sessions_open" 0
sample_is "metrics: custom counter from a handler" 'spam_rules_total{rule="bad_subject"}' 2
sample_is "metrics: VM pool size" "pmilter_vm_pool_size" 4
check "metrics: RSS is reported" grep -qE '^pmilter_resident_memory_bytes [1-9][0-9]{5,}$' "$T/samples"
sample_is "metrics: KV calls (none made)" "pmilter_kv_calls_total" 0
sample_is "metrics: no reload yet" 'pmilter_reloads_total{result="ok"}' 0

# --- pmilter-client --stats ---
. test/metrics/t_stats.sh

# --- other paths, methods and malformed requests ---
got=$(status_of "http://127.0.0.1:$PORT/"); [ "$got" = 404 ] && pass "metrics: / is 404" || fail "metrics: / is 404" "got $got"
got=$(status_of "http://127.0.0.1:$PORT/metricsx"); [ "$got" = 404 ] && pass "metrics: /metricsx is 404" || fail "metrics: /metricsx is 404" "got $got"
got=$(status_of -X POST -d x "http://127.0.0.1:$PORT/metrics"); [ "$got" = 404 ] && pass "metrics: POST is 404" || fail "metrics: POST is 404" "got $got"
"$PY" - "$PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
for junk in [b"\x00\xff\x16\x03\x01garbage\r\n\r\n", b"GET /metrics HTTP/9.9\r\n\r\n", b"GET " + b"A" * 100000 + b" HTTP/1.1\r\n\r\n",
             b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"y" * 70000 + b"\r\n\r\n", b"GET /metrics HTTP/1.1\r\nHost"]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
        s.recv(65536)
    except OSError:
        pass
    s.close()
PY
check "metrics: still serving after malformed requests" scrape
check "metrics: pmilter alive after malformed requests" kill -0 "$PM_PID"

# --- reloads keep the registry ---
kill -USR1 "$PM_PID"
reloaded() { scrape && grep -qxF 'pmilter_reloads_total{result="ok"} 1' "$T/samples"; }
check "metrics: reloads_total{result=ok} after SIGUSR1" wait_for reloaded
sample_is "metrics: a reload keeps counts" 'pmilter_messages_total{verdict="continue"}' 8 # 5 + t_stats.sh's 3
sample_is "metrics: a reload keeps custom metrics" 'spam_rules_total{rule="bad_subject"}' 2
echo 'this is not toml = = =' >>"$CONF"
kill -USR1 "$PM_PID"
failed_reload() { scrape && grep -qxF 'pmilter_reloads_total{result="failed"} 1' "$T/samples"; }
check "metrics: reloads_total{result=failed} after a broken config" wait_for failed_reload
stop_pmilter
check_sanitizer_clean "metrics: no sanitizer report"

# --- custom metrics: names, kinds, cardinality bound ---
metrics_site custom 'max_series = 3'
start_pmilter "$CONF" || { fail "metrics: start custom" "pmilter did not start"; exit 1; }
send badname; st=$?
[ "$st" = 2 ] && pass "metrics: an invalid name is a handler error (tempfail)" || fail "metrics: invalid name tempfails" "exit $st"
log_has() { if grep -qE -- "$2" "$PM_ERR"; then pass "$1"; else fail "$1" "log lacks /$2/: $(tail -2 "$PM_ERR" | tr '\n' ' ')"; fi; }
log_has "metrics: the invalid name is named in the log" 'invalid metric name "bad-name"'
send negative; st=$?
[ "$st" = 2 ] && pass "metrics: a counter going down is a handler error" || fail "metrics: counter going down" "exit $st"
for i in 1 2 3 4 5; do send "card$i"; done; send card1
scrape
n=$(grep -c '^per_sender_total{' "$T/samples")
[ "$n" = 3 ] && pass "metrics: label sets bounded by max_series" || fail "metrics: label sets bounded" "$n series: $(grep per_sender "$T/samples" | tr '\n' ' ')"
sample_is "metrics: a kept series still counts" 'per_sender_total{sender="card1"}' 2
n=$(grep -c 'per_sender_total has 3 label sets' "$PM_ERR")
[ "$n" = 1 ] && pass "metrics: one log line for dropped label sets" || fail "metrics: one log line" "$n lines"
send gauge
scrape
sample_is "metrics: gauge set then dec, label value escaped" 'queue_depth{queue="q \"1\""}' 5
sample_is "metrics: custom histogram count" 'score_count' 2
sample_is "metrics: custom histogram bucket" 'score_bucket{le="0.005"}' 1
stop_pmilter
check_sanitizer_clean "metrics: no sanitizer report (custom)"

# --- limits hit ---
SERVER_LINES=('max_recipients = 1')
metrics_site limits
SERVER_LINES=()
echo 'mruby_envrcpt_handler = "handler/eom.rb"' >>"$CONF" # so the MTA sends RCPT
start_pmilter "$CONF" || fail "metrics: start limits" "$(tail -2 "$PM_ERR")"
"$CLIENT" -s "unix:$SOCK" --from "<good@x>" --to "<a@y>" --to "<b@y>" --to "<c@y>" "$T/mail.eml" >/dev/null 2>&1
wait_for sessions_closed
scrape
sample_is "metrics: max_recipients hit once per message" 'pmilter_limits_hit_total{limit="max_recipients"}' 1
sample_is "metrics: other limits not hit" 'pmilter_limits_hit_total{limit="max_headers"}' 0
stop_pmilter

# --- operations metrics: message time, errors by class, VM pool, DNS, MIME ---
. test/metrics/t_ops.sh

# --- the VM pool under contention and reload ---
. test/metrics/t_pool.sh

# --- systemd notify ---
. test/metrics/t_notify.sh

# --- configuration ---
metrics_site badlisten
sed -i 's/^listen = "127.0.0.1:.*/listen = "nowhere"/' "$CONF"
"$PMILTER" -c "$CONF" >/dev/null 2>"$T/badlisten.err"; st=$?
[ "$st" = 78 ] && pass "metrics: a bad listen stops the start (EX_CONFIG)" || fail "metrics: bad listen" "exit $st"
check "metrics: a bad listen is explained" grep -qF 'metrics.listen "nowhere": expected host:port' "$T/badlisten.err"
suite_exit
