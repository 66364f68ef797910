# pmilter-client --stats (client/stats.c): against the running pmilter of
# run.sh's counts section (5 continue, 2 reject, 1 tempfail sent), then
# against a fixture endpoint with known histogram buckets (exact p50/p99),
# garbage, a 404 and nothing listening. Sourced by test/metrics/run.sh.
URL=http://127.0.0.1:$PORT/metrics
"$CLIENT" --stats "$URL" --interval 0.2 >"$T/stats.out" 2>&1; st=$?
[ "$st" = 0 ] && pass "stats: exit 0" || fail "stats: exit 0" "exit $st: $(head -3 "$T/stats.out")"
stats_has() { if grep -qE -- "$2" "$T/stats.out"; then pass "$1"; else fail "$1" "no /$2/ in: $(tr '\n' '|' <"$T/stats.out")"; fi; }
stats_has "stats: messages by verdict" '^  continue +5 +0\.0$'
stats_has "stats: rejects" '^  reject +2 +0\.0$'
stats_has "stats: all messages, idle rate 0" '^  all +8 +0\.0$'
stats_has "stats: sessions" '^sessions: 0 open, 8 since start$'
stats_has "stats: runs, p50, p99 and errors per phase" '^  envfrom +8 +[0-9.]+ (us|ms) +[0-9.]+ (us|ms) +1$'
stats_has "stats: errors by class" '^  errors of class RuntimeError: 1$'
stats_has "stats: VM pool" '^VM pool: 4 VMs, 0 busy'
# A rate: messages sent while it waits between its two fetches.
"$CLIENT" --stats "$URL" --interval 2 >"$T/stats.out" 2>&1 &
STATS_PID=$!
sleep 0.5; for i in 1 2 3; do send good; done
wait "$STATS_PID"
stats_has "stats: a rate over the interval" '^  continue +8 +(0\.[1-9]|1\.[0-5])$'

# A fixture endpoint: 100 envfrom runs, 20 within 1 ms, the rest within 4 ms: p50 is
# 1 + 3 x 30/80 = 2.125 ms, p99 1 + 3 x 79/80 = 3.96 ms (linear within the bucket).
cat >"$T/fixture.prom" <<'PROM'
# TYPE pmilter_messages_total counter
pmilter_messages_total{verdict="continue"} 100
pmilter_handler_duration_seconds_bucket{phase="envfrom",le="0.001"} 20
pmilter_handler_duration_seconds_bucket{phase="envfrom",le="0.004"} 100
pmilter_handler_duration_seconds_bucket{phase="envfrom",le="+Inf"} 100
pmilter_handler_duration_seconds_count{phase="envfrom"} 100
pmilter_handler_errors_total{phase="envfrom",class="Weird \"quoted\" {class}"} 3
PROM
FIXTURE_PORT=$(free_port)
"$PY" - "$FIXTURE_PORT" "$T" <<'PY' &
import http.server, sys
root = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path not in ("/metrics", "/garbage"):
            self.send_error(404); return
        body = open(root + "/fixture.prom", "rb").read() if self.path == "/metrics" else b"\x00\xffnot {metrics\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
FIXTURE_PID=$!
on_exit "kill $FIXTURE_PID"
wait_for curl -sf -o /dev/null "http://127.0.0.1:$FIXTURE_PORT/metrics"
"$CLIENT" --stats "http://127.0.0.1:$FIXTURE_PORT/metrics" --interval 0.1 >"$T/stats.out" 2>&1
stats_has "stats: p50 and p99 interpolated as histogram_quantile does" '^  envfrom +100 +2\.1 ms +4\.0 ms +3$'
stats_has "stats: a class name with quotes and braces" '^  errors of class Weird "quoted" \{class\}: 3$'
"$CLIENT" --stats "http://127.0.0.1:$FIXTURE_PORT/garbage" >"$T/stats.out" 2>&1; st=$?
[ "$st" = 3 ] && pass "stats: garbage exits 3" || fail "stats: garbage exits 3" "exit $st"
stats_has "stats: garbage is named" 'is not Prometheus text|no pmilter metrics'
"$CLIENT" --stats "http://127.0.0.1:$FIXTURE_PORT/other" >"$T/stats.out" 2>&1; st=$?
[ "$st" = 3 ] && pass "stats: a 404 exits 3" || fail "stats: a 404 exits 3" "exit $st"
stats_has "stats: the 404 is named" '404'
kill "$FIXTURE_PID"
"$CLIENT" --stats "http://127.0.0.1:$FIXTURE_PORT/metrics" >"$T/stats.out" 2>&1; st=$?
[ "$st" = 3 ] && pass "stats: nothing listening exits 3" || fail "stats: nothing listening" "exit $st"
stats_has "stats: and says it could not connect" "(Couldn't|Could not|Failed to) connect"
"$CLIENT" --stats "$URL" --interval 0 >"$T/stats.out" 2>&1; st=$?
[ "$st" = 64 ] && pass "stats: a bad --interval is a usage error" || fail "stats: bad --interval" "exit $st"
