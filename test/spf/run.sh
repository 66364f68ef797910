#!/bin/bash
# SPF: src/auth/spf.c and Session#spf.
# 1. The official RFC 7208 test suite (python3-spf ships it; test/spf/rfc7208.py
#    flattens it at test time), all 203 tests, through spf_suite: the C
#    evaluator reading each scenario's zone data through its lookup interface;
#    then test/spf/own.tsv, cases of our own in the same format.
# 2. A running pmilter with the real test DNS server (test/dns/server.sh plus
#    this suite's zone), Session#spf from handlers, every scenario compared
#    with pyspf (python3-spf) asking the same server at test time.
# checks: 327  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh
BUILD=${BUILD:-build/default}
ROOT=$PWD
SUITE_BIN=$ROOT/$BUILD/spf/spf_suite
CLIENT=$ROOT/$BUILD/pmilter-client
PY=/usr/bin/python3 # Debian's: python3-spf, python3-yaml and python3-dnspython are Debian packages
for tool in unbound miltertest $PY; do
    command -v $tool >/dev/null || { fail "spf: $tool installed" "missing (scripts/deps.sh)"; suite_exit; }
done
$PY -c 'import spf, yaml, dns.resolver' 2>/dev/null || { fail "spf: python modules" "python3-spf/-yaml/-dnspython missing (scripts/deps.sh)"; suite_exit; }
[ -x "$SUITE_BIN" ] && [ -x "$CLIENT" ] || { fail "spf: built" "make test-build first ($SUITE_BIN, $CLIENT)"; suite_exit; }
tmpdir

## 1. RFC 7208 test suite
if $PY test/spf/rfc7208.py >"$T/rfc7208.tsv"; then pass "spf: the RFC 7208 suite converts"; else fail "spf: the RFC 7208 suite converts" "test/spf/rfc7208.py failed"; fi
# run_suite NAME FILE: spf_suite over FILE, its lines reported as ours; sets RC_<NAME>.
run_suite() {
    local line r
    "$SUITE_BIN" "$2" >"$T/$1.out" 2>"$T/$1.err"
    eval "RC_$1=$?"
    while IFS= read -r line; do
        case $line in
        "PASS: "*) pass "${line#PASS: }" ;;
        "FAIL: "*) r=${line#FAIL: }; fail "${r%%: *}" "${r#*: }" ;;
        esac
    done <"$T/$1.out"
}
run_suite rfc7208 "$T/rfc7208.tsv"
ran=$(grep -c '^PASS: \|^FAIL: ' "$T/rfc7208.out")
if [ "$ran" = 203 ]; then pass "spf: all 203 tests of the RFC 7208 suite ran"
else fail "spf: all 203 tests of the RFC 7208 suite ran" "$ran ran: $(tail -1 "$T/rfc7208.err")"; fi
# Our own cases, same format: limits and explanations the suite does not reach.
run_suite own test/spf/own.tsv

# Under the ASan build a leak or a sanitizer report makes spf_suite exit non-zero.
if [ "$RC_rfc7208" = 0 ] && [ "$RC_own" = 0 ]; then pass "spf: spf_suite exits 0 (no failure, no sanitizer report)"
else fail "spf: spf_suite exits 0" "exit $RC_rfc7208/$RC_own: $(grep -m1 -E 'ERROR|runtime error' "$T/rfc7208.err" "$T/own.err")"; fi

## 2. Session#spf through pmilter, against pyspf on the same DNS server
ZONE=$T/spf-zone.conf
{
    z() { echo "    local-data: '$1'"; }
    z 'pass.spf.example. TXT "v=spf1 include:inc.spf.example -all"'
    z 'inc.spf.example. TXT "v=spf1 ip4:198.18.1.0/24 ip6:2001:2::/48 -all"'
    z 'fail.spf.example. TXT "v=spf1 a:host.spf.example -all exp=why.%{d}"'
    z 'host.spf.example. A 198.18.1.9'
    z 'why.fail.spf.example. TXT "%{i} may not send for %{d} (%{l}, %{v})"'
    z 'soft.spf.example. TXT "v=spf1 mx/30 ~all"'
    z 'soft.spf.example. MX 10 mx.spf.example.'
    z 'mx.spf.example. A 198.18.2.1'
    z 'manymx.spf.example. TXT "v=spf1 mx -all"'
    for i in 1 2 3 4 5 6 7 8 9 10 11; do z "manymx.spf.example. MX $i mx$i.spf.example."; done
    z 'mx11.spf.example. A 198.18.1.1'
    z 'redir.spf.example. TXT "v=spf1 redirect=neutral.spf.example"'
    z 'neutral.spf.example. TXT "v=spf1 ?all"'
    z 'nospf.spf.example. TXT "not an spf record"'
    z 'two.spf.example. TXT "v=spf1 -all"'
    z 'two.spf.example. TXT "v=spf1 +all"'
    z 'bad.spf.example. TXT "v=spf1 ip4:198.18.1.1/33 +all"'
    for i in 0 1 2 3 4 5 6 7 8 9 10; do z "l$i.spf.example. TXT \"v=spf1 include:l$((i + 1)).spf.example -all\""; done
    z 'l11.spf.example. TXT "v=spf1 +all"'
    z 'void.spf.example. TXT "v=spf1 a:n1.spf.example a:n2.spf.example a:n3.spf.example +all"'
    z 'exists.spf.example. TXT "v=spf1 exists:%{ir}.%{v}.list.spf.example -all"'
    z '1.1.18.198.in-addr.list.spf.example. A 127.0.0.2'
    z 'ptr.spf.example. TXT "v=spf1 ptr:good.example -all"'
    z 'helo.spf.example. TXT "v=spf1 ip4:198.18.1.1 -all"'
    z 'slow.spf.example. TXT "v=spf1 include:x.timeout.example -all"'
} >"$ZONE"
DNS_EXTRA=$ZONE
. test/dns/server.sh
if start_dns_server; then pass "spf: test DNS server starts on port $DNS_PORT"; else fail "spf: test DNS server starts" "see above"; suite_exit; fi

# name ip sender helo expected: "-" is the empty reverse-path (the HELO identity).
# The timeout case comes last: a resolver that saw timeouts may rate its forwarder down.
cat >"$T/scenarios" <<'EOF'
include-pass 198.18.1.1 a@pass.spf.example client.example pass
ip6-pass 2001:2::7 a@pass.spf.example client.example pass
ip4-mapped-pass ::ffff:198.18.1.1 a@pass.spf.example client.example pass
include-fail 198.18.3.3 a@pass.spf.example client.example fail
a-fail-exp 198.18.1.1 bob@fail.spf.example client.example fail
a-pass 198.18.1.9 bob@fail.spf.example client.example pass
mx-pass 198.18.2.2 a@soft.spf.example client.example pass
mx-softfail 198.18.2.5 a@soft.spf.example client.example softfail
redirect-neutral 198.18.1.1 a@redir.spf.example client.example neutral
no-record 198.18.1.1 a@nospf.spf.example client.example none
no-domain 198.18.1.1 a@nx.spf.example client.example none
two-records 198.18.1.1 a@two.spf.example client.example permerror
bad-cidr 198.18.1.1 a@bad.spf.example client.example permerror
lookup-limit 198.18.1.1 a@l0.spf.example client.example permerror
void-limit 198.18.1.1 a@void.spf.example client.example permerror
exists-macro 198.18.1.1 a@exists.spf.example client.example pass
exists-miss 198.18.1.2 a@exists.spf.example client.example fail
ptr-pass 198.18.0.1 a@ptr.spf.example client.example pass
ptr-unvalidated 198.18.0.2 a@ptr.spf.example client.example fail
helo-identity 198.18.1.1 - helo.spf.example pass
mx-limit 198.18.1.1 a@manymx.spf.example client.example permerror
dns-servfail 198.18.1.1 a@x.servfail.example client.example temperror
dns-timeout 198.18.1.1 a@slow.spf.example client.example temperror
EOF
# pyspf over every scenario first (it takes ~2 s for the timeout).
awk '{print $2, $3, $4}' "$T/scenarios" | $PY test/spf/pyspf_check.py "$DNS_PORT" 2 >"$T/pyspf.out" 2>"$T/pyspf.err"
if [ "$(grep -c '' "$T/pyspf.out")" = "$(grep -c '' "$T/scenarios")" ]; then pass "spf: pyspf checked every scenario"
else fail "spf: pyspf checked every scenario" "$(tail -2 "$T/pyspf.err" | tr '\n' ' ')"; fi

new_site spf 'handler_timeout = 3' 'min_worker = 1' 'max_worker = 1'
printf '[dns]\nresolver = ["127.0.0.1@%s"]\ntimeout_ms = 1000\n' "$DNS_PORT" >>"$CONF"
handler connect '
s = Pmilter::Session.new
begin
  s.spf
  puts "connect: no error"
rescue Pmilter::PhaseError => e
  puts "connect: #{e.class}: #{e.message}"
end'
handler helo '
r = Pmilter::Session.new.spf_helo
puts "helo: #{r.result} #{r.domain}"'
handler envfrom '
s = Pmilter::Session.new
s.spf(1) if s.helo_hostname == "misuse.example"
r = s.spf
puts "envfrom: #{r.result} #{r.domain} mechanism=#{r.mechanism.inspect} explanation=#{r.explanation.inspect}"'
handler envrcpt '
r = Pmilter::Session.new.spf
Pmilter.status = Pmilter::SMFIS_REJECT if r.result == "fail"'
handler eom '
s = Pmilter::Session.new
r = s.spf
puts "eom: #{r.result} #{r.domain} mechanism=#{r.mechanism.inspect} explanation=#{r.explanation.inspect}"
puts "kept: #{$kept.result} #{$kept.domain}" if $kept
$kept ||= r'
if ! start_pmilter "$CONF"; then fail "spf: pmilter starts" "$(head -3 "$PM_ERR" | tr '\n' ' ')"; suite_exit; fi
printf 'From: a@example.com\nTo: b@example.org\nSubject: spf\n\nhello\n' >"$T/mail.eml"

# play IP SENDER HELO: one message; sets PLAY_RC, PLAY_MS, and OUT (the handlers' lines for it).
play() {
    local from="<$2>" before t0
    [ "$2" = - ] && from="<>"
    before=$(grep -c '' "$PM_OUT")
    LOG_BEFORE=$(grep -c ': spf: ' "$PM_ERR")
    t0=$(date +%s%N)
    "$CLIENT" -s "unix:$SOCK" "$T/mail.eml" --client-ip "$1" --helo "$3" --from "$from" --to "<b@example.org>" >"$T/client.out" 2>&1
    PLAY_RC=$?
    PLAY_MS=$((($(date +%s%N) - t0) / 1000000))
    sleep 0.1 # handler output reaches the file
    OUT=$(tail -n +$((before + 1)) "$PM_OUT" | tr -d '\r')
}

i=0
while read -r name ip sender helo want; do
    i=$((i + 1))
    play "$ip" "$sender" "$helo"
    got=$(sed -n 's/^envfrom: \([a-z]*\) .*/\1/p' <<<"$OUT")
    py=$(sed -n "${i}p" "$T/pyspf.out")
    if [ "$got" = "$want" ]; then pass "spf: pmilter: $name is $want"
    else fail "spf: pmilter: $name is $want" "got '$got' (client exit $PLAY_RC): $(tr '\n' '|' <<<"$OUT") $(grep ': spf: ' "$PM_ERR" | tail -1)"; fi
    if [ "${py%%$'\t'*}" = "$got" ]; then pass "spf: pyspf agrees on $name"
    else fail "spf: pyspf agrees on $name" "pyspf says '${py%%$'\t'*}', pmilter '$got'"; fi
    eom=$(sed -n 's/^eom: //p' <<<"$OUT")
    if [ "$got" = fail ]; then # rejected at RCPT: no eom
        if [ "$PLAY_RC" = 1 ]; then pass "spf: $name: a handler rejects on fail"; else fail "spf: $name: a handler rejects on fail" "client exit $PLAY_RC"; fi
        pyexp=${py#*$'\t'}
        if grep -qF "explanation=\"$pyexp\"" <<<"$OUT"; then pass "spf: $name: the explanation is pyspf's ($pyexp)"
        else fail "spf: $name: the explanation is pyspf's" "pyspf: '$pyexp'; pmilter: $(grep '^envfrom' <<<"$OUT")"; fi
    elif [ "$eom" = "$(sed -n 's/^envfrom: //p' <<<"$OUT")" ]; then pass "spf: $name: eom reads the same result"
    else fail "spf: $name: eom reads the same result" "$(tr '\n' '|' <<<"$OUT")"; fi
    checks=$(($(grep -c ': spf: ' "$PM_ERR") - LOG_BEFORE))
    # one check for MAIL FROM (cached for envrcpt and eom), one for the HELO identity
    if [ "$checks" = 2 ]; then pass "spf: $name: checked once per identity"
    else fail "spf: $name: checked once per identity" "$checks checks logged"; fi
done <"$T/scenarios"

# The details a handler reads.
play 198.18.1.1 bob@fail.spf.example client.example
want='envfrom: fail fail.spf.example mechanism="-all" explanation="198.18.1.1 may not send for fail.spf.example (bob, in-addr)"'
if grep -qxF "$want" <<<"$OUT"; then pass "spf: result, domain, mechanism, explanation (macros expanded)"; else fail "spf: result, domain, mechanism, explanation" "$(tr '\n' '|' <<<"$OUT")"; fi
play 198.18.1.1 a@pass.spf.example client.example
if grep -qxF 'envfrom: pass pass.spf.example mechanism="include:inc.spf.example" explanation=nil' <<<"$OUT"; then pass "spf: a pass names its mechanism and has no explanation"
else fail "spf: a pass names its mechanism" "$(tr '\n' '|' <<<"$OUT")"; fi
if grep -q '^connect: Pmilter::PhaseError: Pmilter::Session#spf needs MAIL FROM (called in connect)' <<<"$OUT"; then pass "spf: Session#spf before MAIL FROM raises Pmilter::PhaseError"
else fail "spf: Session#spf before MAIL FROM raises Pmilter::PhaseError" "$(grep '^connect' <<<"$OUT")"; fi
if grep -qxF 'helo: pass helo.spf.example' <<<"$(play 198.18.1.1 a@pass.spf.example helo.spf.example; echo "$OUT")"; then pass "spf: Session#spf_helo checks postmaster@HELO"
else fail "spf: Session#spf_helo checks postmaster@HELO" "$(grep '^helo' <<<"$OUT")"; fi
if grep -qxF 'kept: pass pass.spf.example' <<<"$OUT"; then pass "spf: a result kept past its message still reads its own values"
else fail "spf: a result kept past its message still reads its own values" "$(tr '\n' '|' <<<"$OUT")"; fi
play 198.18.1.1 a@pass.spf.example misuse.example
if [ "$PLAY_RC" = 2 ] && grep -q "ArgumentError" "$PM_ERR"; then pass "spf: a wrong call (s.spf(1)) gives the handler_error verdict (tempfail)"
else fail "spf: a wrong call gives tempfail" "client exit $PLAY_RC"; fi
play 198.18.1.1 a@slow.spf.example client.example
if [ "$PLAY_MS" -lt 2900 ]; then pass "spf: a DNS timeout answers within handler_timeout (${PLAY_MS} ms)"
else fail "spf: a DNS timeout stays within handler_timeout" "took $PLAY_MS ms"; fi
# Three messages on one connection (miltertest): one aborted after MAIL FROM, one to eom,
# one rejected at RCPT; each message gets its own check, the abort keeps nothing.
before=$(grep -c '' "$PM_OUT")
printf 'dofile("%s")\n%s\n' "$ROOT/test/integration/mtlib.lua" '
local conn = connect()
step(conn, SMFIP_NOCONNECT, mt.conninfo, "client", "198.18.1.1")
step(conn, SMFIP_NOHELO, mt.helo, "client.example")
expect_reply("mail 1", step(conn, SMFIP_NOMAIL, mt.mailfrom, "<a@pass.spf.example>"), SMFIR_CONTINUE)
assert(mt.abort(conn) == nil)
local _, r2 = message({conn = conn, from = "<a@soft.spf.example>", to = "<b@example.org>"})
expect_reply("eom 2", r2.eom, SMFIR_CONTINUE)
local _, r3 = message({conn = conn, from = "<a@fail.spf.example>", to = "<b@example.org>"})
expect_reply("rcpt 3", r3.envrcpt, SMFIR_REJECT)
mt.disconnect(conn)' >"$T/messages.lua"
if miltertest -D sock="unix:$SOCK" -s "$T/messages.lua" >"$T/mt.out" 2>&1; then
    sleep 0.1
    got=$(tail -n +$((before + 1)) "$PM_OUT" | sed -n 's/^\(envfrom\|eom\): \([a-z]*\) \([a-z.]*\) .*/\1 \2 \3/p' | tr '\n' '|')
    want='envfrom pass pass.spf.example|envfrom softfail soft.spf.example|eom softfail soft.spf.example|envfrom fail fail.spf.example|'
    if [ "$got" = "$want" ]; then pass "spf: each message of a connection is checked anew (after an abort and after eom)"
    else fail "spf: each message of a connection is checked anew" "got $got"; fi
else fail "spf: each message of a connection is checked anew" "miltertest: $(tail -3 "$T/mt.out" | tr '\n' ' ')"; fi
play unix:/run/client.sock a@pass.spf.example client.example
if grep -qxF 'envfrom: none pass.spf.example mechanism=nil explanation=nil' <<<"$OUT" &&
    grep -q 'spf: none for pass.spf.example from a unix socket .* 0 queries' "$PM_ERR"; then pass "spf: a client without an IP address (unix socket) is none, no DNS asked"
else fail "spf: a unix-socket client is none" "$(tr '\n' '|' <<<"$OUT")"; fi
if kill -0 "$PM_PID" 2>/dev/null; then pass "spf: pmilter is alive after every scenario"; else fail "spf: pmilter is alive" "it died: $(tail -3 "$PM_ERR")"; fi
stop_pmilter
check_sanitizer_clean "spf: no sanitizer report" "$PM_ERR"

## 2b. A DNS server that is down, slow or answers garbage: temperror, within handler_timeout
$PY test/spf/garbage_dns.py >"$T/garbage.port" &
on_exit "kill $!"
start_delay_relay 1500
wait_for test -s "$T/garbage.port"
dead_port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for peer in "down:$dead_port" "slow:$RELAY_PORT" "garbage:$(cat "$T/garbage.port")"; do
    new_site "peer-${peer%%:*}" 'handler_timeout = 3'
    printf '[dns]\nresolver = ["127.0.0.1@%s"]\ntimeout_ms = 1000\n' "${peer#*:}" >>"$CONF"
    handler envfrom 'r = Pmilter::Session.new.spf
puts "envfrom: #{r.result} #{r.problem}"'
    start_pmilter "$CONF" || { fail "spf: a DNS server ${peer%%:*}" "pmilter did not start"; continue; }
    play 198.18.1.1 a@pass.spf.example client.example
    if grep -q '^envfrom: temperror DNS ' <<<"$OUT" && [ "$PLAY_RC" = 0 ] && [ "$PLAY_MS" -lt 2900 ]; then
        pass "spf: a DNS server ${peer%%:*}: temperror in $PLAY_MS ms ($(sed -n 's/^envfrom: temperror //p' <<<"$OUT"))"
    else fail "spf: a DNS server ${peer%%:*}: temperror within handler_timeout" "client exit $PLAY_RC after $PLAY_MS ms: $(tr '\n' '|' <<<"$OUT")"; fi
    stop_pmilter
done

## 3. docs/auth.md's SPF recipes, each the handler of its phase, against the same zone
awk '/^## SPF/ {on = 1; print; next} /^## / {on = 0} on' docs/auth.md >"$T/auth-spf.md"
EX=$T/spf-docs
if n=$(python3 test/integration/docs_examples.py "$T/auth-spf.md" "$EX") && [ "$n" -ge 3 ]; then pass "spf docs: every ruby block of docs/auth.md ## SPF is an example ($n)"
else fail "spf docs: every ruby block of docs/auth.md ## SPF is an example" "${n:-none}"; fi
for dir in $(find "$EX" -name meta -printf '%h/\n' | sort -V); do
    phase= verdict= args= client= stdout= line=
    . "$dir/meta"
    new_site "docs-$(basename "$dir")" 'handler_timeout = 3'
    printf '[dns]\nresolver = ["127.0.0.1@%s"]\ntimeout_ms = 1000\n' "$DNS_PORT" >>"$CONF"
    handler "$phase" "$(cat "$dir/handler.rb")"
    name="spf docs: docs/auth.md SPF example $(basename "$dir") ($phase, $verdict)"
    start_pmilter "$CONF" || { fail "$name" "pmilter did not start: $(cat "$PM_ERR")"; continue; }
    eval "set -- $args"
    out=$("$CLIENT" -s "unix:$SOCK" "$T/mail.eml" --to "<b@example.org>" "$@" 2>&1)
    stop_pmilter
    if ! grep -q "verdict: $verdict" <<<"$out"; then fail "$name" "verdict: $(grep '^verdict' <<<"$out") $(tail -2 "$PM_ERR" | tr '\n' ' ')"
    elif [ -n "$client" ] && ! grep -qF -- "$client" <<<"$out"; then fail "$name" "client output lacks '$client': $(tr '\n' ' ' <<<"$out" | tail -c 300)"
    elif [ -n "$stdout" ] && ! grep -qF -- "$stdout" "$PM_OUT"; then fail "$name" "handler output lacks '$stdout': $(head -c 300 "$PM_OUT")"
    else pass "$name"; fi
done
suite_exit
