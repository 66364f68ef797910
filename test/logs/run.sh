#!/bin/bash
# Logging (src/core/log.c, docs/logging.md): a real pmilter, messages sent with
# pmilter-client, and what an operator would read checked field by field:
# - log_format = "json": every line parsed with jq; the per-message line's
#   fields against the message sent; Pmilter.log lines; escaping; the line cap
# - text: the same facts as key=value
# - log_target = "syslog": a capture socket at /dev/log in a private mount
#   namespace (test/logs/in_namespace.sh; no syslog daemon runs in this
#   container), facility and priority read from <PRI>
# - log_target = "journal": a capture socket at /run/systemd/journal/socket in
#   a private mount namespace, the native journal protocol parsed (capture.py)
# - log_target = "file:..." and SIGUSR2 after mv (logrotate)
# - bad log_* values: one config error naming file, line and key, exit 78
# - man pages: rendered by man --warnings without a warning, every option and
#   key documented, installed by make install
# checks: 104  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
. test/lib.sh
trap _run_cleanup EXIT
CLIENT=${CLIENT:-$REPO/pmilter-client}
PY=/usr/bin/python3
REAL_PMILTER=$PMILTER
for tool in jq man "$PY" "$CLIENT" unshare; do
    command -v "$tool" >/dev/null || { fail "logs" "$tool not found (scripts/deps.sh, make test-build)"; exit 1; }
done

tmpdir
printf 'From: a@x\nTo: b@y\nSubject: m\n\nhello\n' >"$T/mail.eml"

# is NAME GOT WANT
is() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want '$3', got '$2'"; fi; }
# send FROM [client args]: one message; sets SENT_RC (the client's exit status).
send() {
    local from=$1; shift
    "$CLIENT" -s "unix:$SOCK" --from "$from" "$@" "$T/mail.eml" >"$T/client.out" 2>&1
    SENT_RC=$?
}
# The handlers: envfrom rejects <spam@...> with a reply code; eom uses the
# KV store and logs from Ruby; <badfield@...>, <badlevel@...> and <big@...>
# misuse Pmilter.log.
site() {
    new_site "$@"
    handler envfrom 's = Pmilter::Session.new
if s.envelope_from.start_with?("<spam@")
  s.set_reply("550", "5.7.1", "no spam")
  Pmilter.status = Pmilter::SMFIS_REJECT
end'
    handler eom 'from = Pmilter::Session.new.envelope_from
Pmilter::KV.set("logs-test", "1")
case from
when "<badfield@x>" then Pmilter.log(:info, "x", "Bad-Name": 1)
when "<reserved@x>" then Pmilter.log(:info, "x", session: 1)
when "<badlevel@x>" then Pmilter.log(:loud, "x")
when "<big@x>" then Pmilter.log(:info, "big", big: "y" * 20000)
when "<bigmsg@x>" then Pmilter.log(:info, "m" * 10000, after: 1)
when "<manyfields@x>" then Pmilter.log(:info, "x", **(1..33).map { |i| ["f#{i}".to_sym, i] }.to_h)
when "<dns@x>"
  begin
    Pmilter::DNS.a("slow.example", timeout: 0.3)
  rescue Pmilter::DNS::Error
  end
else Pmilter.log(:warn, "tab\there \"quoted\" back\\slash nl\nctl\x01 bad\xff ok\xc3\xa9", rule: "a b", score: 7, note: "l1\nl2")
end'
}
RCPTS=(--to '<r1@y>' --to '<r2@y>' --to '<r3@y>' --to '<r4@y>' --to '<r5@y>' --to '<r6@y>' --to '<r7@y>')
ENVELOPE=(--client-ip 198.51.100.7 --client-host mx.example.net --helo helo.example.net)
# json_lines FILE: the JSON lines of a pmilter log (sanitizer reports are not JSON)
json_lines() { grep '^{' "$1"; }
msg_line() { json_lines "$1" | jq -c "select(.event == \"message\" and .from == \"$2\")" | tail -1; }
handler_line() { json_lines "$1" | jq -c 'select(.event == "handler")' | tail -1; }

# ---------------------------------------------------------------- JSON on stderr
# A DNS forwarder that never answers: a UDP port bound and never read.
exec {SILENT}< <("$PY" -c 'import socket,time,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); time.sleep(3600)')
read -r SILENT_PORT <&$SILENT
on_exit "kill $! 2>/dev/null"
site json 'log_format = "json"' 'log_envelope = true'
printf '\n[dns]\nresolver = ["127.0.0.1@%s"]\n' "$SILENT_PORT" >>"$CONF"
printf 'Pmilter.log(:notice, "configured", mode: "test")\n' >"$D/handler/postconfig.rb"
printf '\n[handler.config]\nmruby_postconfig_handler = "handler/postconfig.rb"\n' >>"$CONF"
start_pmilter "$CONF" || { fail "logs: start json" "pmilter did not start"; exit 1; }
send '<alice@x>' "${ENVELOPE[@]}" "${RCPTS[@]}" --macro envfrom:i=LOGQ1 --macro eom:i=LOGQ1
send '<spam@x>' "${ENVELOPE[@]}" --to '<r1@y>' --macro envfrom:i=LOGQ2
send '<big@x>' --to '<r1@y>'
send '<badfield@x>' --to '<r1@y>'; rc_badfield=$SENT_RC
send '<reserved@x>' --to '<r1@y>'; rc_reserved=$SENT_RC
send '<manyfields@x>' --to '<r1@y>'; rc_manyfields=$SENT_RC
send '<bigmsg@x>' --to '<r1@y>'
send '<dns@x>' --to '<r1@y>' 
send '<badlevel@x>' --to '<r1@y>'; rc_badlevel=$SENT_RC
stop_pmilter
E=$PM_ERR
bad=$(grep -v '^{' "$E" | grep -vE '^(==|    #|SUMMARY|$)' | head -3)
is "logs: json: every stderr line is a JSON object" "$bad" ""
is "logs: json: every line parses with jq" "$(json_lines "$E" | jq -e 'type == "object"' | sort -u)" "true"
is "logs: json: time, level and msg on every line" \
    "$(json_lines "$E" | jq -r '(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$")) and (.level|type=="string") and (.msg|type=="string")' | sort -u)" "true"
M=$(msg_line "$E" '<alice@x>')
field() { jq -r "$2" <<<"$1"; }
is "logs: json message: level info" "$(field "$M" .level)" "info"
is "logs: json message: queue id" "$(field "$M" .queue_id)" "LOGQ1"
is "logs: json message: client ip" "$(field "$M" .client_ip)" "198.51.100.7"
is "logs: json message: client name" "$(field "$M" .client_name)" "mx.example.net"
is "logs: json message: helo" "$(field "$M" .helo)" "helo.example.net"
is "logs: json message: from" "$(field "$M" .from)" "<alice@x>"
is "logs: json message: recipient count" "$(field "$M" .rcpt_count)" "7"
is "logs: json message: first five recipients" "$(field "$M" '.rcpts | join(" ")')" "<r1@y> <r2@y> <r3@y> <r4@y> <r5@y>"
is "logs: json message: verdict" "$(field "$M" .verdict)" "continue"
is "logs: json message: deciding phase" "$(field "$M" .phase)" "eom"
is "logs: json message: no reply code of its own" "$(field "$M" 'has("reply_code")')" "false"
is "logs: json message: handler_us is a number" "$(field "$M" '.handler_us | type == "number" and . > 0')" "true"
is "logs: json message: kv_us is a number (the eom handler used Pmilter::KV)" "$(field "$M" '.kv_us | type == "number" and . > 0')" "true"
is "logs: json message: no dns_us without DNS" "$(field "$M" 'has("dns_us")')" "false"
is "logs: json message: session is a number" "$(field "$M" '.session | type')" "number"
R=$(msg_line "$E" '<spam@x>')
is "logs: json early reject: verdict" "$(field "$R" .verdict)" "reject"
is "logs: json early reject: deciding phase envfrom" "$(field "$R" .phase)" "envfrom"
is "logs: json early reject: reply code" "$(field "$R" .reply_code)" "550"
is "logs: json early reject: queue id" "$(field "$R" .queue_id)" "LOGQ2"
is "logs: json early reject: no recipient yet" "$(field "$R" '.rcpt_count, (.rcpts|length)' | tr '\n' ' ')" "0 0 "
H=$(json_lines "$E" | jq -c 'select(.event == "handler" and .level == "warn")' | head -1)
is "logs: Pmilter.log: level" "$(field "$H" .level)" "warn"
want_msg=$(printf 'tab\there "quoted" back\\slash nl\nctl\001 bad\357\277\275 ok\303\251')
is "logs: Pmilter.log: msg escaped, invalid UTF-8 as U+FFFD, the rest intact" "$(field "$H" .msg)" "$want_msg"
is "logs: Pmilter.log: string field" "$(field "$H" .rule)" "a b"
is "logs: Pmilter.log: integer field stays a number" "$(field "$H" '.score | type == "number" and . == 7')" "true"
is "logs: Pmilter.log: tagged with phase and the message's queue id" "$(field "$H" '.phase + " " + .queue_id')" "eom LOGQ1"
is "logs: Pmilter.log: same session as the message line" "$(field "$H" .session)" "$(field "$M" .session)"
B=$(json_lines "$E" | jq -c 'select(.msg == "big")')
is "logs: a 20000-byte field: the line is cut to 8 KiB and still parses" \
    "$(jq -r '(.big | startswith("yyyy")) and (.big | length < 8192)' <<<"$B")" "true"
check "logs: a 20000-byte field: line length at most 8192" test "$(grep -m1 '"msg":"big"' "$E" | wc -c)" -le 8192
is "logs: Pmilter.log with a bad field name: tempfail (handler_error)" "$rc_badfield" "2"
check "logs: Pmilter.log with a bad field name: the error names it" grep -qF 'field name :\"Bad-Name\": expected' "$E"
is "logs: Pmilter.log with a reserved field name: tempfail" "$rc_reserved" "2"
is "logs: Pmilter.log with an unknown level: tempfail" "$rc_badlevel" "2"
check "logs: Pmilter.log with an unknown level: the error names it" grep -q 'level :loud is not one of' "$E"
is "logs: Pmilter.log with 33 fields: tempfail" "$rc_manyfields" "2"
check "logs: Pmilter.log with 33 fields: the error says the bound" grep -q 'Pmilter.log: 33 fields, at most 32' "$E"
B=$(json_lines "$E" | jq -c 'select(.msg | startswith("mmmm"))')
is "logs: a 10000-byte message is cut to 4 KiB, its field kept" "$(jq -r '"\(.msg | length) \(.after)"' <<<"$B")" "4095 1"
P=$(json_lines "$E" | jq -c 'select(.msg == "configured")')
is "logs: Pmilter.log in postconfig: phase, no session" "$(jq -r '[.level, .phase, .mode, has("session")] | join(" ")' <<<"$P")" "notice postconfig test false"
M=$(msg_line "$E" '<dns@x>')
is "logs: json message: dns_us counts a DNS wait (a silent server, timeout 0.3 s)" \
    "$(field "$M" '.dns_us | type == "number" and . >= 250000 and . < 2000000')" "true"
check_sanitizer_clean "logs: json: sanitizer clean" "$E"

# Without log_envelope nothing more is negotiated: no client, HELO or recipients in the line.
site plain 'log_format = "json"'
start_pmilter "$CONF" || { fail "logs: start plain" "pmilter did not start"; exit 1; }
send '<alice@x>' "${ENVELOPE[@]}" --to '<r1@y>'
stop_pmilter
check "logs: without log_envelope RCPT TO is not negotiated" grep -qF 'envrcpt <r1@y>: not_sent' "$T/client.out"
M=$(msg_line "$PM_ERR" '<alice@x>')
is "logs: without log_envelope: no client, HELO or recipients, the rest there" \
    "$(field "$M" '[has("client_ip"), has("helo"), has("rcpt_count"), has("rcpts"), .verdict, .phase] | join(" ")')" \
    "false false false false continue eom"

# ---------------------------------------------------------------- text
site text 'log_envelope = true'
start_pmilter "$CONF" || { fail "logs: start text" "pmilter did not start"; exit 1; }
send '<alice@x>' "${ENVELOPE[@]}" "${RCPTS[@]}" --macro envfrom:i=LOGQ3 --macro eom:i=LOGQ3
stop_pmilter
check_sanitizer_clean "logs: text: sanitizer clean"
line=$(grep -m1 'message from <alice@x>' "$PM_ERR")
for kv in queue_id=LOGQ3 client_ip=198.51.100.7 client_name=mx.example.net helo=helo.example.net 'from=<alice@x>' \
    rcpt_count=7 'rcpts=<r1@y>,<r2@y>,<r3@y>,<r4@y>,<r5@y> ' verdict=continue phase=eom handler_us= kv_us=; do
    case "$line" in *" $kv"*) pass "logs: text message: $kv";; *) fail "logs: text message: $kv" "not in: $line";; esac
done
check "logs: text message: the line pmilter always wrote comes first" \
    grep -qE '\]\[info\]: session [0-9]+, queue LOGQ3: message from <alice@x> to 7 recipient\(s\): continue event=message ' "$PM_ERR"
check "logs: text Pmilter.log: fields as key=value, quoted when needed" \
    env LC_ALL=C grep -qE '\]\[warn\]: tab\\x09here "quoted" back\\\\slash nl\\x0actl\\x01 .* event=handler session=[0-9]+ queue_id=LOGQ3 phase=eom rule="a b" score=7 note=l1\\x0al2$' "$PM_ERR"

# ---------------------------------------------------------------- config errors
# bad_config NAME LINE WANT: the config with LINE at line 4 fails -t and start with WANT
bad_config() {
    new_site "bad$RANDOM" "$2"
    local out rc
    out=$("$PMILTER" -c "$CONF" 2>&1); rc=$?
    if [ $rc -eq 78 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -qF "$CONF:4: $3" <<<"$out"; then pass "$1"
    else fail "$1" "exit $rc: $out"; fi
}
bad_config "logs: config: bad log_target" 'log_target = "kafka"' 'server.log_target: "kafka": expected stderr, syslog, journal or file:/path'
bad_config "logs: config: bad log_format" 'log_format = "xml"' 'server.log_format: "xml": expected text or json'
bad_config "logs: config: bad log_facility" 'log_facility = "kern"' 'server.log_facility: "kern": expected mail'
bad_config "logs: config: empty file target" 'log_target = "file:"' 'server.log_target'
bad_config "logs: config: log_format not a string" 'log_format = 1' 'server.log_format: expected string'
new_site nodir "log_target = \"file:$T/missing/dir/pm.log\""
out=$("$PMILTER" -c "$CONF" 2>&1); rc=$?
if [ $rc -eq 78 ] && grep -q "cannot open log file $T/missing/dir/pm.log" <<<"$out"; then pass "logs: config: unwritable log file: exit 78, named"
else fail "logs: config: unwritable log file: exit 78, named" "exit $rc: $out"; fi

# ---------------------------------------------------------------- syslog
# ns_start KIND: start_pmilter through a wrapper that runs pmilter with KIND's socket captured into $CAP
ns_start() {
    local kind=$1; shift
    local n=$RANDOM
    CAP=$T/$kind-$n.jsonl # a socket of its own: an earlier capture may still listen on the last one
    "$PY" test/logs/capture.py "$kind" "$T/$kind-$n.sock" "$CAP" & local cpid=$!
    on_exit "kill $cpid"
    wait_for test -S "$T/$kind-$n.sock"
    printf '#!/bin/sh\nexec %s %s %s %s "$@"\n' "$REPO/test/logs/in_namespace.sh" "$kind" "$T/$kind-$n.sock" "$REAL_PMILTER" >"$T/pm-$kind"
    chmod +x "$T/pm-$kind"
    PMILTER=$T/pm-$kind start_pmilter "$CONF"
}
# cap_has JQ_FILTER: the capture file has an entry the filter selects.
cap_has() { jq -e "$1" "$CAP" >/dev/null 2>&1; }
site syslog 'log_target = "syslog"' 'log_envelope = true'
if ns_start syslog; then
    pid=$PM_PID
    send '<alice@x>' "${ENVELOPE[@]}" --to '<r1@y>' --macro eom:i=LOGQ4
    wait_for cap_has 'select(.text | contains("queue LOGQ4: message from"))'
    stop_pmilter
    S=$(jq -c 'select(.text | contains("message from <alice@x>"))' "$CAP" | head -1)
    is "logs: syslog: per-message line at mail.info (<22>)" "$(jq -r .pri <<<"$S")" "22"
    check "logs: syslog: ident pmilter[PID], LOG_PID" grep -q "pmilter\[$pid\]: session" <<<"$(jq -r .text <<<"$S")"
    check "logs: syslog: the fields are in the text" grep -q 'queue_id=LOGQ4 client_ip=198.51.100.7 .* verdict=continue' <<<"$(jq -r .text <<<"$S")"
    is "logs: syslog: start-up line at mail.notice (<21>)" "$(jq -r 'select(.text | contains("starting")) | .pri' "$CAP" | head -1)" "21"
    is "logs: syslog: Pmilter.log warn at mail.warning (<20>)" "$(jq -r 'select(.text | contains("event=handler")) | .pri' "$CAP" | head -1)" "20"
    is "logs: syslog: nothing on stderr" "$(grep -c '\]\[' "$PM_ERR")" "0"
    check_sanitizer_clean "logs: syslog: sanitizer clean"
else
    fail "logs: syslog: start" "pmilter did not start in the namespace: $(cat "$PM_ERR")"
fi
site syslog-json 'log_target = "syslog"' 'log_facility = "local3"' 'log_format = "json"'
if ns_start syslog; then
    send '<alice@x>' --to '<r1@y>' --macro eom:i=LOGQ5
    wait_for cap_has 'select(.text | contains("LOGQ5") and contains("\"event\":\"message\""))'
    stop_pmilter
    S=$(jq -c 'select(.text | contains("LOGQ5")) | select(.text | contains("\"event\":\"message\""))' "$CAP" | head -1)
    is "logs: syslog: log_facility local3 at info (<158>)" "$(jq -r .pri <<<"$S")" "158"
    is "logs: syslog json: the text after the tag is a JSON object" \
        "$(jq -r '.text | sub("^[^{]*pmilter\\[[0-9]+\\]: "; "") | fromjson | .queue_id + " " + .verdict' <<<"$S")" "LOGQ5 continue"
else
    fail "logs: syslog json: start" "pmilter did not start in the namespace: $(cat "$PM_ERR")"
fi

# ---------------------------------------------------------------- journal
site journal 'log_target = "journal"' 'log_envelope = true'
if ns_start journal; then
    send '<spam@x>' "${ENVELOPE[@]}" --to '<r1@y>' --macro envfrom:i=LOGQ6
    send '<alice@x>' --to '<r1@y>' --to '<r2@y>' --macro eom:i=LOGQ7
    wait_for cap_has 'select(.PMILTER_QUEUE_ID == "LOGQ7" and .PMILTER_EVENT == "message")'
    stop_pmilter
    J=$(jq -c 'select(.PMILTER_QUEUE_ID == "LOGQ6" and .PMILTER_EVENT == "message")' "$CAP" | head -1)
    is "logs: journal: PRIORITY 6 (info)" "$(jq -r .PRIORITY <<<"$J")" "6"
    is "logs: journal: SYSLOG_IDENTIFIER" "$(jq -r .SYSLOG_IDENTIFIER <<<"$J")" "pmilter"
    is "logs: journal: SYSLOG_FACILITY mail" "$(jq -r .SYSLOG_FACILITY <<<"$J")" "2"
    is "logs: journal: PMILTER_VERDICT" "$(jq -r .PMILTER_VERDICT <<<"$J")" "reject"
    is "logs: journal: PMILTER_PHASE and PMILTER_REPLY_CODE" "$(jq -r '.PMILTER_PHASE + " " + .PMILTER_REPLY_CODE' <<<"$J")" "envfrom 550"
    is "logs: journal: PMILTER_CLIENT_IP" "$(jq -r .PMILTER_CLIENT_IP <<<"$J")" "198.51.100.7"
    check "logs: journal: PMILTER_SESSION is the session number" grep -qE '^[0-9]+$' <<<"$(jq -r .PMILTER_SESSION <<<"$J")"
    check "logs: journal: MESSAGE is the text line" grep -q 'message from <spam@x>: reject event=message' <<<"$(jq -r .MESSAGE <<<"$J")"
    J=$(jq -c 'select(.PMILTER_QUEUE_ID == "LOGQ7" and .PMILTER_EVENT == "message")' "$CAP" | head -1)
    is "logs: journal: PMILTER_RCPTS and PMILTER_RCPT_COUNT" "$(jq -r '.PMILTER_RCPTS + " " + .PMILTER_RCPT_COUNT' <<<"$J")" "<r1@y>,<r2@y> 2"
    J=$(jq -c 'select(.PMILTER_EVENT == "handler")' "$CAP" | head -1)
    is "logs: journal: Pmilter.log at PRIORITY 4 (warning)" "$(jq -r .PRIORITY <<<"$J")" "4"
    is "logs: journal: a field with a newline arrives whole (binary form)" "$(jq -r .PMILTER_NOTE <<<"$J")" "$(printf 'l1\nl2')"
    is "logs: journal: a field with a space" "$(jq -r .PMILTER_RULE <<<"$J")" "a b"
    check_sanitizer_clean "logs: journal: sanitizer clean"
else
    fail "logs: journal: start" "pmilter did not start in the namespace: $(cat "$PM_ERR")"
fi

# No syslog daemon or journal to reach (none runs in this container): syslog(3)
# and sd_journal_send(3) would drop every line silently, so pmilter refuses to start.
for t in syslog:/dev/log journal:/run/systemd/journal/socket; do
    if [ -e "${t#*:}" ]; then pass "logs: ${t%%:*} socket missing: not testable, ${t#*:} exists"; continue; fi
    new_site "no-${t%%:*}" "log_target = \"${t%%:*}\""
    out=$("$PMILTER" -c "$CONF" 2>&1); rc=$?
    if [ $rc -eq 78 ] && grep -qF "log_target ${t%%:*}: no log socket at ${t#*:}" <<<"$out"; then pass "logs: ${t%%:*} socket missing: exit 78, named"
    else fail "logs: ${t%%:*} socket missing: exit 78, named" "exit $rc: $out"; fi
done

# ---------------------------------------------------------------- file + SIGUSR2
site file 'log_target = "file:logs/pm.log"'
mkdir -p "$D/logs"
start_pmilter "$CONF" || { fail "logs: start file" "pmilter did not start"; exit 1; }
L=$D/logs/pm.log
send '<before@x>' --to '<r1@y>'
wait_for grep -q 'message from <before@x>' "$L"
mv "$L" "$L.1"
kill -USR2 "$PM_PID"
wait_for test -s "$L"
send '<after@x>' --to '<r1@y>'
wait_for grep -q 'message from <after@x>' "$L"
check "logs: file: relative path under the config's directory, start-up line in it" grep -q 'pmilter/.* starting' "$L.1"
check "logs: file: the rotated file has the message before SIGUSR2" grep -q 'message from <before@x>' "$L.1"
check "logs: file: the rotated file has nothing after SIGUSR2" bash -c "! grep -q 'message from <after@x>' '$L.1'"
check "logs: file: SIGUSR2 reopened the path, logged in the new file" grep -q 'SIGUSR2: reopened log file' "$L"
check "logs: file: the message after SIGUSR2 is in the new file" grep -q 'message from <after@x>' "$L"
# The directory gone: the reopen fails, is logged, and logging carries on in the open file.
mv "$D/logs" "$D/logs.gone"
kill -USR2 "$PM_PID"
wait_for grep -q 'cannot reopen log file' "$D/logs.gone/pm.log"
send '<still@x>' --to '<r1@y>'
wait_for grep -q 'message from <still@x>' "$D/logs.gone/pm.log"
check "logs: file: a failed reopen is logged and the old file kept" grep -q 'message from <still@x>' "$D/logs.gone/pm.log"
is "logs: file: still serving after two SIGUSR2" "$SENT_RC" "0"
stop_pmilter
is "logs: file: nothing on stderr" "$(grep -c '\]\[' "$PM_ERR")" "0"
check_sanitizer_clean "logs: file: sanitizer clean"
# SIGUSR2 without a log file does nothing (it used to kill the process).
site usr2
start_pmilter "$CONF" || { fail "logs: start usr2" "pmilter did not start"; exit 1; }
kill -USR2 "$PM_PID"; sleep 0.2
send '<alice@x>' --to '<r1@y>'
is "logs: SIGUSR2 on stderr logging: still serving" "$SENT_RC" "0"
stop_pmilter

# ---------------------------------------------------------------- man pages
for page in man/pmilter.8 man/pmilter.conf.5; do
    out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    is "logs: man: $page renders without warnings" "$out" ""
done
missing=""
for opt in $("$REAL_PMILTER" -h | grep -oE '^  -[a-zA-Z]'); do
    grep -q "^\.B \\\\$opt\b\|^\.BI \\\\$opt\b" man/pmilter.8 || missing="$missing $opt"
done
is "logs: man: pmilter(8) has every option of pmilter -h" "$missing" ""
missing=""
for key in $(sed -n 's/^    {"\([a-z_]*\)", K_.*/\1/p' src/core/config.c | sort -u); do
    grep -q "^\.BR\? $key\b" man/pmilter.conf.5 || missing="$missing $key"
done
is "logs: man: pmilter.conf(5) has every key of config.c" "$missing" ""
D=$T/inst
make -C "$REPO" --no-print-directory BUILD=build/default BIN=pmilter SAN= DESTDIR="$D" PREFIX=/usr install >/dev/null 2>&1
check "logs: make install: pmilter(8)" test -f "$D/usr/share/man/man8/pmilter.8"
check "logs: make install: pmilter.conf(5)" test -f "$D/usr/share/man/man5/pmilter.conf.5"
suite_exit
