#!/bin/bash
# DKIM, DMARC and Authentication-Results (src/auth, docs/auth.md) against a
# real DNS server (test/dns/server.sh with this suite's records) and
# independent tools: messages signed by dkimpy and opendkim-testmsg are
# verified by pmilter; messages pmilter signs are verified by dkimpy; the
# DMARC matrix follows RFC 7489; python3-authres parses the A-R header.
# checks: 65  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh
. test/auth/lib.sh
BUILD=${BUILD:-build/default}
ROOT=$PWD
CLIENT=$ROOT/$BUILD/pmilter-client
for tool in unbound openssl opendkim-testmsg jq; do
    command -v $tool >/dev/null || { fail "auth: $tool installed" "missing (scripts/deps.sh)"; suite_exit; }
done
"$PY" -c 'import dkim, authres, nacl, cryptography' 2>/dev/null || { fail "auth: python3 modules" "dkimpy, authres, nacl (scripts/packages/auth.txt)"; suite_exit; }
[ -x "$CLIENT" ] || { fail "auth: built" "make test-build first ($CLIENT)"; suite_exit; }
tmpdir
# libopendkim's own Ed25519 key leak (test/auth/lsan.supp), for ASan builds.
export LSAN_OPTIONS=suppressions=$ROOT/test/auth/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
K=$T/keys
mkdir -p "$K"
make_keys "$K"

# The zone: keys for a.example (rsa, ed), sub.a.example's signer, no key for
# "gone", a key under timeout.example that never answers; DMARC records.
ZONE=$T/zone.txt # "name value" lines for dkimpy's verifier too
{
    echo "rsa._domainkey.a.example v=DKIM1; k=rsa; p=$(cat "$K/rsa.pub")"
    echo "ed._domainkey.a.example v=DKIM1; k=ed25519; p=$(cat "$K/ed.pub")"
    echo "rsa._domainkey.b.example v=DKIM1; k=rsa; p=$(cat "$K/rsa.pub")"
    echo "junk._domainkey.a.example v=DKIM1; k=rsa; p=!!not*base64!!"
    echo "rsa._domainkey.sub.a.example v=DKIM1; k=rsa; p=$(cat "$K/rsa.pub")"
    echo "_dmarc.a.example v=DMARC1; p=reject; sp=quarantine; adkim=r; aspf=r"
    echo "_dmarc.s.example v=DMARC1; p=reject; adkim=s; aspf=s"
    echo "rsa._domainkey.s.example v=DKIM1; k=rsa; p=$(cat "$K/rsa.pub")"
    echo "rsa._domainkey.x.s.example v=DKIM1; k=rsa; p=$(cat "$K/rsa.pub")"
    echo "_dmarc.q.example v=DMARC1; p=quarantine"
    echo "rsa._domainkey.q.example v=DKIM1; k=rsa; p=$(cat "$K/rsa.pub")"
    echo "_dmarc.n.example v=DMARC1; p=none"
} >"$ZONE"
DNS_EXTRA=$T/extra.conf
while read -r name value; do txt_data "$name" "$value"; done <"$ZONE" >"$DNS_EXTRA"
export DNS_EXTRA
. test/dns/server.sh
if start_dns_server; then pass "auth: test DNS server starts on port $DNS_PORT"; else fail "auth: test DNS server starts" "see above"; suite_exit; fi
FWD=127.0.0.1@$DNS_PORT

# msg FILE FROM [SUBJECT]: a plain message.
msg() {
    printf 'From: %s\r\nTo: rcpt@example.net\r\nSubject: %s\r\nDate: Mon, 30 Nov 2026 02:00:00 +0000\r\nMessage-ID: <%s@test>\r\n\r\nHello,\r\nthis is the body.\r\n\r\n-- \r\nsig\r\n' \
        "$2" "${3:-auth test}" "$RANDOM" >"$1"
}
# play FILE [client args]: one message through pmilter; PLAY_OUT, PLAY_RC.
play() {
    local f=$1; shift
    : >"$PM_OUT"
    PLAY_OUT=$("$CLIENT" -s "unix:$SOCK" "$f" "$@" 2>&1 | tr -d '\0'; exit "${PIPESTATUS[0]}")
    PLAY_RC=$?
}
# stop_site NAME: stops pmilter; it exited 0 with no sanitizer report (ASan builds).
stop_site() {
    stop_pmilter
    if [ "${PM_STATUS:-0}" -ne 0 ]; then fail "auth: $1: clean exit" "pmilter exited $PM_STATUS: $(tail -2 "$PM_ERR")"
    else check_sanitizer_clean "auth: $1: clean exit, no sanitizer report"; fi
}
# sees NAME TEXT: pmilter's stdout (the handler's puts) has the line TEXT.
sees() { if tr -d '\r\0' <"$PM_OUT" | grep -qxF -- "$2"; then pass "$1"; else fail "$1" "no line '$2' in: $(tr '\n\0' '| ' <"$PM_OUT")"; fi; }

######## DKIM verification
new_site verify 'handler_timeout = 5'
printf '[dns]\nresolver = ["%s"]\ntimeout_ms = 1500\n' "$FWD" >>"$CONF"
handler eom '
s = Pmilter::Session.new
sigs = s.dkim
puts "none" if sigs.empty?
sigs.each { |d| puts "dkim #{d.domain} #{d.selector} #{d.result} #{d.algorithm} #{d.body_length.inspect} #{d.body_length?}#{d.reason.empty? ? "" : " (" + d.reason + ")"}" }'
start_pmilter "$CONF" || { fail "auth: pmilter starts" "$(tail -3 "$PM_ERR")"; suite_exit; }

msg "$T/plain.eml" "Alice <alice@a.example>"
play "$T/plain.eml"
sees "auth: dkim: an unsigned message has no results" "none"

dkimpy_sign "$T/plain.eml" "$T/py-rsa.eml" a.example rsa "$K/rsa.pem"
play "$T/py-rsa.eml"
sees "auth: dkim: dkimpy rsa-sha256 signature passes" "dkim a.example rsa pass rsa-sha256 nil false"

dkimpy_sign "$T/plain.eml" "$T/py-ed.eml" a.example ed "$K/ed.pem" ed25519-sha256
play "$T/py-ed.eml"
sees "auth: dkim: dkimpy ed25519-sha256 signature passes" "dkim a.example ed pass ed25519-sha256 nil false"

opendkim-testmsg -d b.example -s rsa -k "$K/rsa.pem" -C <"$T/plain.eml" >"$T/od.eml" 2>"$T/od.err"
play "$T/od.eml"
# opendkim-testmsg signs rsa-sha1 only: the signature verifies, RFC 8301 refuses the algorithm.
sees "auth: dkim: opendkim-testmsg signature verifies; rsa-sha1 is policy (RFC 8301)" "dkim b.example rsa policy rsa-sha1 nil false (rsa-sha1 is not accepted (RFC 8301))"

sed 's/this is the body/this is the b0dy/' "$T/py-rsa.eml" >"$T/py-body.eml"
play "$T/py-body.eml"
sees "auth: dkim: a changed body fails" "dkim a.example rsa fail rsa-sha256 nil false (body hash did not verify)"

sed 's/^Subject: auth test/Subject: auth t3st/' "$T/py-rsa.eml" >"$T/py-hdr.eml"
play "$T/py-hdr.eml"
sees "auth: dkim: a changed signed header fails" "dkim a.example rsa fail rsa-sha256 nil false (signature verification failed)"

sed 's/this is the b0dy/this is the b0dy/' "$T/py-ed.eml" | sed 's/this is the body/this is the b0dy/' >"$T/py-ed-body.eml"
play "$T/py-ed-body.eml"
sees "auth: dkim: a changed body fails (ed25519)" "dkim a.example ed fail ed25519-sha256 nil false (body hash did not verify)"

# l=: the signature covers the first bytes only; text appended after them keeps it valid.
dkimpy_sign "$T/plain.eml" "$T/py-l.eml" a.example rsa "$K/rsa.pem" rsa-sha256 1
len=$(sed -n 's/.*[; ]l=\([0-9]*\).*/\1/p' "$T/py-l.eml" | head -1)
printf 'appended by a mailing list\r\n' >>"$T/py-l.eml"
play "$T/py-l.eml"
sees "auth: dkim: l= covers part of the body; appended text keeps it passing" "dkim a.example rsa pass rsa-sha256 $len true"

dkimpy_sign "$T/plain.eml" "$T/py-gone.eml" a.example gone "$K/rsa.pem"
play "$T/py-gone.eml"
sees "auth: dkim: no key in DNS is permerror" "dkim a.example gone permerror rsa-sha256 nil false (key not found in DNS)"

dkimpy_sign "$T/plain.eml" "$T/py-junk.eml" a.example junk "$K/rsa.pem"
play "$T/py-junk.eml"
if tr -d '\r\0' <"$PM_OUT" | grep -q '^dkim a.example junk permerror rsa-sha256 nil false'; then pass "auth: dkim: a garbage key record is permerror"
else fail "auth: dkim: a garbage key record is permerror" "$(cat "$PM_OUT")"; fi

# Two signatures: one good, one broken: one result each, in order.
dkimpy_sign "$T/py-rsa.eml" "$T/py-two.eml" a.example gone "$K/rsa.pem"
play "$T/py-two.eml"
if tr -d '\r\0' <"$PM_OUT" | grep -c '^dkim ' | grep -qx 2; then pass "auth: dkim: one result per DKIM-Signature"; else fail "auth: dkim: one result per DKIM-Signature" "$(cat "$PM_OUT")"; fi

# Garbage in a DKIM-Signature: permerror, never a crash.
{ printf 'DKIM-Signature: v=1; a=rsa-sha256; d=a.example; s=rsa; h=from; b=AAAA\r\n'; cat "$T/plain.eml"; } >"$T/garbage.eml"
play "$T/garbage.eml"
if tr -d '\r\0' <"$PM_OUT" | grep -q '^dkim a.example rsa permerror'; then pass "auth: dkim: a malformed signature is permerror"; else fail "auth: dkim: a malformed signature is permerror" "$(cat "$PM_OUT") rc=$PLAY_RC"; fi

# The key query that never answers: temperror after [dns] timeout_ms, the message goes on.
dkimpy_sign "$T/plain.eml" "$T/py-slow.eml" timeout.example rsa "$K/rsa.pem"
t0=$(date +%s%N)
play "$T/py-slow.eml"
ms=$((($(date +%s%N) - t0) / 1000000))
sees "auth: dkim: a key lookup that times out is temperror" "dkim timeout.example rsa temperror rsa-sha256 nil false (key DNS query failed)"
if [ "$ms" -lt 4500 ]; then pass "auth: dkim: the timeout is bounded by [dns] timeout_ms ($ms ms)"; else fail "auth: dkim: the timeout is bounded" "$ms ms"; fi
stop_site verify

# s.dkim, s.dmarc and s.authentication_results in one eom verify the message once:
# with a key lookup that never answers, three verifications would wait 3 x 1.5 s.
new_site once 'handler_timeout = 8'
printf '[dns]\nresolver = ["%s"]\ntimeout_ms = 1500\n' "$FWD" >>"$CONF"
handler eom '
s = Pmilter::Session.new
puts "once #{s.dkim.map(&:result).join(",")} #{s.dmarc.result} #{s.authentication_results("mx.test").include?("dkim=temperror")}"'
start_pmilter "$CONF" || { fail "auth: pmilter starts (once)" "$(tail -3 "$PM_ERR")"; suite_exit; }
t0=$(date +%s%N)
play "$T/py-slow.eml"
ms=$((($(date +%s%N) - t0) / 1000000))
sees "auth: dkim, dmarc and A-R of one message agree" "once temperror fail true"
if [ "$ms" -lt 3000 ]; then pass "auth: one verification per message for s.dkim, s.dmarc and s.authentication_results ($ms ms)"
else fail "auth: one verification per message for s.dkim, s.dmarc and s.authentication_results" "$ms ms: verified more than once"; fi
stop_site once

######## DKIM signing: pmilter signs, dkimpy verifies with the zone's keys
new_site sign
printf '[dkim.keys.rsa]\nfile = "%s"\n[dkim.keys.ed]\nfile = "%s"\n' "$K/rsa.pem" "$K/ed.pem" >>"$CONF"
handler eom '
s = Pmilter::Session.new
case s.envelope_from
when "<rsa@a.example>" then s.dkim_sign(domain: "a.example", selector: "rsa", key: "rsa")
when "<ed@a.example>" then s.dkim_sign(domain: "a.example", selector: "ed", key: "ed")
when "<simple@a.example>" then s.dkim_sign(domain: "a.example", selector: "rsa", key: "rsa", canonicalization: "simple/simple")
when "<both@a.example>"
  s.dkim_sign(domain: "a.example", selector: "rsa", key: "rsa")
  s.dkim_sign(domain: "a.example", selector: "ed", key: "ed")
when "<nokey@a.example>" then s.dkim_sign(domain: "a.example", selector: "rsa", key: "nope")
when "<edited@a.example>"
  h = Pmilter::Session::Headers.new
  h.change("Subject", "Changed by the handler")
  h.add("X-Added", "before signing")
  s.dkim_sign(domain: "a.example", selector: "rsa", key: "rsa")
when "<badcanon@a.example>" then s.dkim_sign(domain: "a.example", selector: "rsa", key: "rsa", canonicalization: "loose")
end'
# Ed25519 signs here: the slow unwinder lets LSan see the leak's path through libcrypto (lsan.supp).
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0 start_pmilter "$CONF" ||
    { fail "auth: signing pmilter starts" "$(tail -3 "$PM_ERR")"; suite_exit; }
msg "$T/out.eml" "Bob <bob@a.example>" "Signed by pmilter"
printf 'A folded\r\n header line and trailing blank lines\r\n\r\n\r\n' >>"$T/out.eml"
# signed_copy FROM OUT: plays out.eml, writes OUT = the inserted headers + the message.
signed_copy() {
    "$CLIENT" -s "unix:$SOCK" "$T/out.eml" --from "$1" --json 2>/dev/null >"$T/json"
    "$PY" - "$T/json" "$T/out.eml" "$2" <<'PYEOF'
import json, sys
# The message as it leaves: the milter's header edits applied in order, as the MTA does.
r = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], "rb").read().decode()
head, body = raw.split("\r\n\r\n", 1)
hdrs = []  # [name, value-with-folding]
for line in head.split("\r\n"):
    if line[:1] in " \t":
        hdrs[-1][1] += "\r\n" + line
    else:
        n, v = line.split(":", 1)
        hdrs.append([n, v])
for m in r["modifications"]:
    v = " " + m.get("value", "").replace("\r\n", "\n").replace("\n", "\r\n")
    if m["action"] == "insert_header":
        hdrs.insert(m["index"], [m["name"], v])
    elif m["action"] == "add_header":
        hdrs.append([m["name"], v])
    elif m["action"] in ("change_header", "delete_header"):
        same = [h for h in hdrs if h[0].lower() == m["name"].lower()]
        if len(same) >= m["index"]:
            if m["action"] == "delete_header":
                hdrs.remove(same[m["index"] - 1])
            else:
                same[m["index"] - 1][1] = v
out = "".join("%s:%s\r\n" % (n, v) for n, v in hdrs) + "\r\n" + body
open(sys.argv[3], "wb").write(out.encode())
PYEOF
}
for alg in rsa ed simple both edited; do
    signed_copy "<$alg@a.example>" "$T/signed-$alg.eml"
    if out=$(dkimpy_verify "$T/signed-$alg.eml" "$ZONE" 2>&1); then pass "auth: sign: dkimpy verifies pmilter's $alg signature ($out)"
    else fail "auth: sign: dkimpy verifies pmilter's $alg signature" "$out: $(head -c 300 "$T/signed-$alg.eml") log: $(tail -2 "$PM_ERR")"; fi
done
grep -q 'a=ed25519-sha256' "$T/signed-ed.eml" && grep -q 'c=relaxed/relaxed' "$T/signed-ed.eml" \
    && pass "auth: sign: an Ed25519 key signs ed25519-sha256, relaxed/relaxed by default" \
    || fail "auth: sign: ed25519-sha256 relaxed/relaxed" "$(head -5 "$T/signed-ed.eml")"
grep -q 'c=simple/simple' "$T/signed-simple.eml" && pass "auth: sign: canonicalization: simple/simple" || fail "auth: sign: simple/simple" "$(head -5 "$T/signed-simple.eml")"
grep -q '^Subject: Changed by the handler' "$T/signed-edited.eml" && pass "auth: sign: the handler's header edits of this eom are signed as they leave" \
    || fail "auth: sign: edits before signing" "$(head -c 400 "$T/signed-edited.eml")"
sed 's/trailing blank/trailing b1ank/' "$T/signed-rsa.eml" >"$T/signed-broken.eml"
if dkimpy_verify "$T/signed-broken.eml" "$ZONE" >/dev/null 2>&1; then fail "auth: sign: dkimpy rejects a changed body" "it verified"; else pass "auth: sign: dkimpy rejects a changed body (the check can fail)"; fi
# pmilter verifies its own signature too (round trip through the verifying site above is in the DMARC part).
"$CLIENT" -s "unix:$SOCK" "$T/out.eml" --from "<nokey@a.example>" >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && grep -q 'no key "nope" in \[dkim.keys\]' "$PM_ERR" && pass "auth: sign: an unknown key name is an ArgumentError: tempfail" || fail "auth: sign: unknown key" "rc=$rc $(tail -2 "$PM_ERR")"
"$CLIENT" -s "unix:$SOCK" "$T/out.eml" --from "<badcanon@a.example>" >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && grep -q 'canonicalization: "loose"' "$PM_ERR" && pass "auth: sign: a bad canonicalization is an ArgumentError" || fail "auth: sign: bad canonicalization" "rc=$rc $(tail -2 "$PM_ERR")"
stop_site sign

######## DMARC: the RFC 7489 matrix, and the A-R header parsed by python3-authres
# Session#spf is the SPF teammate's; here a stand-in with the agreed contract
# (#result, #domain) reads the case's SPF outcome from an X-Test-Spf header.
new_site dmarc 'handler_timeout = 5'
printf '[dns]\nresolver = ["%s"]\ntimeout_ms = 1500\n' "$FWD" >>"$CONF"
printf 'class Pmilter::Session\n  SpfStub = Struct.new(:result, :domain)\n  def spf\n    r, d = Pmilter::Session::Headers.new["X-Test-Spf"].to_s.split(" ")\n    raise "spf exploded" if r == "raise"\n    SpfStub.new(r || "none", d || "")\n  end\nend\n' >"$D/spf_stub.rb"
sed -i 's|^\[server\]|[handler.config]\nmruby_library = ["spf_stub.rb"]\n\n[server]|' "$CONF"
handler eom '
s = Pmilter::Session.new
d = s.dmarc
puts "dmarc #{d.result} #{d.policy} #{d.domain} dkim=#{d.aligned_dkim?} spf=#{d.aligned_spf?}"
puts "ar " + s.authentication_results("mx.test").gsub("\r\n\t", " ")'
start_pmilter "$CONF" || { fail "auth: dmarc pmilter starts" "$(tail -3 "$PM_ERR")"; suite_exit; }
# dmarc_case NAME FROM SIGNER SPF WANT: FROM's message, signed by SIGNER's
# rsa key (- for none, SIGNER! for a signature broken afterwards), with SPF
# "result domain" (- for none); WANT: "result policy org-domain dkim=.. spf=..".
dmarc_case() {
    local name=$1 from=$2 signer=$3 spf=$4 want=$5 f=$T/dmarc.eml
    msg "$f" "<user@$from>" "dmarc case"
    [ "$spf" != - ] && sed -i "1i X-Test-Spf: $spf\r" "$f"
    if [ "$signer" != - ]; then
        dkimpy_sign "$f" "$f.signed" "${signer%!}" rsa "$K/rsa.pem"
        [ "${signer%!}" != "$signer" ] && sed -i 's/this is the body/this is the b0dy/' "$f.signed"
        mv "$f.signed" "$f"
    fi
    play "$f"
    sees "auth: dmarc: $name" "dmarc $want"
}
dmarc_case "aligned DKIM passes (relaxed, same domain)" a.example a.example - "pass reject a.example dkim=true spf=false"
dmarc_case "relaxed: a subdomain's DKIM signature aligns" a.example sub.a.example - "pass reject a.example dkim=true spf=false"
dmarc_case "strict adkim: a subdomain's signature does not align" s.example x.s.example - "fail reject s.example dkim=false spf=false"
dmarc_case "strict adkim: the exact domain aligns" s.example s.example - "pass reject s.example dkim=true spf=false"
dmarc_case "relaxed aspf: SPF pass for a subdomain aligns" a.example - "pass bounce.a.example" "pass reject a.example dkim=false spf=true"
dmarc_case "strict aspf: SPF pass for a subdomain does not align" s.example - "pass bounce.s.example" "fail reject s.example dkim=false spf=false"
dmarc_case "p=reject with failing SPF and DKIM fails, policy reject" a.example 'a.example!' "fail a.example" "fail reject a.example dkim=false spf=false"
dmarc_case "a passing signature of another domain does not align" a.example b.example "softfail a.example" "fail reject a.example dkim=false spf=false"
dmarc_case "subdomain without its own record follows sp=" sub.a.example - "fail sub.a.example" "fail quarantine a.example dkim=false spf=false"
dmarc_case "subdomain: aligned DKIM of the organizational domain passes" sub.a.example a.example - "pass quarantine a.example dkim=true spf=false"
dmarc_case "p=quarantine fails as quarantine" q.example - - "fail quarantine q.example dkim=false spf=false"
dmarc_case "p=none fails with policy none" n.example - - "fail none n.example dkim=false spf=false"
dmarc_case "no DMARC record: none" b.example b.example - "none none b.example dkim=false spf=false"
dmarc_case "a record lookup that times out: temperror" x.timeout.example - - "temperror none timeout.example dkim=false spf=false"

# A Session#spf that raises inside s.dmarc: the handler fails, handler_error (tempfail).
msg "$T/raise.eml" "<user@a.example>"
sed -i "1i X-Test-Spf: raise\r" "$T/raise.eml"
play "$T/raise.eml"
[ "$PLAY_RC" = 2 ] && grep -q 'spf exploded' "$PM_ERR" && pass "auth: dmarc: an exception inside s.spf gives handler_error (tempfail)" \
    || fail "auth: dmarc: an exception inside s.spf" "rc=$PLAY_RC $(tail -2 "$PM_ERR")"

# The A-R header of the last-but-one kinds, parsed by python3-authres.
# ar_check NAME PY-EXPR: the "ar" line parses and PY-EXPR holds on r (the parsed header).
ar_check() {
    local line
    line=$(tr -d '\r\0' <"$PM_OUT" | sed -n 's/^ar //p')
    if out=$("$PY" - "$line" "$2" <<'PYEOF' 2>&1
import sys, authres, authres.dmarc
r = authres.FeatureContext(authres.dmarc).parse("Authentication-Results: " + sys.argv[1])
res = {x.method: x for x in r.results}
ok = eval(sys.argv[2])
print(r.authserv_id, [(x.method, x.result) for x in r.results])
sys.exit(0 if ok else 1)
PYEOF
    ); then pass "$1 ($out)"; else fail "$1" "$out: ar $line"; fi
}
msg "$T/ar.eml" "<user@a.example>"
sed -i "1i X-Test-Spf: pass a.example\r" "$T/ar.eml"
dkimpy_sign "$T/ar.eml" "$T/ar-signed.eml" a.example rsa "$K/rsa.pem"
play "$T/ar-signed.eml"
ar_check "auth: A-R: authres parses spf, dkim and dmarc passes" \
    'r.authserv_id == "mx.test" and res["spf"].result == "pass" and res["dkim"].result == "pass" and res["dmarc"].result == "pass" and res["dmarc"].header_from == "a.example" and res["dkim"].header_d == "a.example" and res["dkim"].header_s == "rsa" and res["spf"].smtp_mailfrom == "a.example"'
sed -i 's/this is the body/this is the b0dy/' "$T/ar-signed.eml"
sed -i 's/^X-Test-Spf: pass/X-Test-Spf: fail/' "$T/ar-signed.eml"
play "$T/ar-signed.eml"
ar_check "auth: A-R: authres parses the failures (dkim fail, dmarc fail)" \
    'res["spf"].result == "fail" and res["dkim"].result == "fail" and res["dmarc"].result == "fail"'
play "$T/plain.eml"
ar_check "auth: A-R: an unsigned message says dkim=none" 'res["dkim"].result == "none"'
stop_site dmarc

######## Forged A-R headers, the default authserv-id, phases, limits
new_site misc 'max_body_size = 16' 'handler_timeout = 5'
printf '[dns]\nresolver = ["%s"]\ntimeout_ms = 1500\n' "$FWD" >>"$CONF"
handler helo '
begin
  Pmilter::Session.new.dkim
rescue Pmilter::PhaseError => e
  puts "helo: #{e.class}"
end'
handler eom '
s = Pmilter::Session.new
case s.envelope_from
when "<forged@a.example>"
  puts "removed #{s.remove_forged_authentication_results}"
  Pmilter::Session::Headers.new.insert(0, "Authentication-Results", s.authentication_results)
when "<long@a.example>"
  s.dkim.each { |d| puts "long #{d.result} (#{d.reason})" }
  begin
    s.dkim_sign(domain: "a.example", selector: "rsa", key: "rsa")
  rescue RuntimeError => e
    puts "sign: #{e.message}"
  end
end'
printf '[dkim.keys.rsa]\nfile = "%s"\n' "$K/rsa.pem" >>"$CONF"
start_pmilter "$CONF" || { fail "auth: misc pmilter starts" "$(tail -3 "$PM_ERR")"; suite_exit; }
{ printf 'Authentication-Results: MX.example.net; dkim=pass header.d=a.example\r\n'
  printf 'Authentication-Results: other.example.org; spf=pass smtp.mailfrom=a.example\r\n'
  printf 'Authentication-Results:\r\n\tmx.example.net;\r\n\tdmarc=pass\r\n'
  cat "$T/plain.eml"; } >"$T/forged.eml"
"$CLIENT" -s "unix:$SOCK" "$T/forged.eml" --from "<forged@a.example>" --macro j=mx.example.net --json 2>/dev/null >"$T/forged.json"
sees "auth: A-R: forged headers claiming our authserv-id are removed (2 of 3)" "removed 2"
if jq -e '[.modifications[] | select(.action == "delete_header")] | map(.index) == [3, 1]' "$T/forged.json" >/dev/null; then
    pass "auth: A-R: the first and third A-R are deleted, the other host's kept"
else fail "auth: A-R: which A-R are deleted" "$(jq -c .modifications "$T/forged.json")"; fi
if jq -e '.modifications[] | select(.action == "insert_header") | .value | startswith("mx.example.net;")' "$T/forged.json" >/dev/null; then
    pass "auth: A-R: the authserv-id defaults to macro j"
else fail "auth: A-R: default authserv-id" "$(jq -c .modifications "$T/forged.json")"; fi
grep -q '^helo: Pmilter::PhaseError' <(tr -d '\r\0' <"$PM_OUT") && pass "auth: Session#dkim outside eom raises Pmilter::PhaseError" || fail "auth: PhaseError" "$(cat "$PM_OUT")"
: >"$PM_OUT"
"$CLIENT" -s "unix:$SOCK" "$T/py-rsa.eml" --from "<long@a.example>" >/dev/null 2>&1
sees "auth: dkim: a body cut at max_body_size is neutral, not fail" "long neutral (body longer than max_body_size: not verified)"
sees "auth: sign: a message cut at max_body_size is not signed" "sign: Pmilter::Session#dkim_sign: the message is longer than max_body_size or max_header_bytes: cannot sign"
stop_site misc

######## examples/auth: the OpenDKIM + OpenDMARC setup, with this zone's names
D=$T/example-auth
cp -r examples/auth "$D"
mkdir -p "$D/keys" && cp "$K/rsa.pem" "$D/keys/main.pem"
SOCK=$D/pm.sock CONF=$D/pmilter.conf
sed -i -e "s|^listen = .*|listen = \"$SOCK\"|" -e '/^user = /d' -e '/^group = /d' \
    -e "s|^resolver = .*|resolver = [\"$FWD\"]|" "$CONF"
sed -i 's|"example.com" => \["2026", "main"\]|"a.example" => ["rsa", "main"]|' "$D/handler/eom.rb"
start_pmilter "$CONF" || { fail "auth: examples/auth starts" "$(tail -3 "$PM_ERR")"; suite_exit; }
"$CLIENT" -s "unix:$SOCK" "$T/out.eml" --from "<bob@a.example>" --macro "envfrom:{auth_authen}=bob" \
    --macro "envfrom:{mail_addr}=bob@a.example" --json 2>/dev/null >"$T/json"
"$PY" - "$T/json" "$T/out.eml" "$T/example-signed.eml" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
h = "".join("%s: %s\r\n" % (m["name"], m["value"].replace("\r\n", "\n").replace("\n", "\r\n"))
            for m in r["modifications"] if m["action"] == "insert_header")
open(sys.argv[3], "wb").write(h.encode() + open(sys.argv[2], "rb").read())
PYEOF
if out=$(dkimpy_verify "$T/example-signed.eml" "$ZONE" 2>&1); then pass "auth: examples/auth: an authenticated sender's mail is signed ($out)"
else fail "auth: examples/auth: signs outgoing mail" "$out $(tail -2 "$PM_ERR")"; fi
msg "$T/ex-forged.eml" "<ceo@a.example>" "urgent wire transfer"
"$CLIENT" -s "unix:$SOCK" "$T/ex-forged.eml" >"$T/ex.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'rejected by DMARC policy of a.example' "$T/ex.out" && pass "auth: examples/auth: unauthenticated mail from a p=reject domain is rejected" \
    || fail "auth: examples/auth: DMARC reject" "rc=$rc $(cat "$T/ex.out")"
"$CLIENT" -s "unix:$SOCK" "$T/py-rsa.eml" --json >"$T/ex.json" 2>&1
if jq -e '.verdict == "continue" and ([.modifications[] | select(.action == "insert_header" and .name == "Authentication-Results") | .value | gsub("\\s+"; " ") | test("dkim=pass header.d=a.example .*dmarc=pass")] == [true])' "$T/ex.json" >/dev/null; then
    pass "auth: examples/auth: signed mail passes with an A-R header"
else fail "auth: examples/auth: signed mail passes" "$(jq -c '{verdict, modifications}' "$T/ex.json")"; fi
msg "$T/ex-q.eml" "<news@q.example>"
"$CLIENT" -s "unix:$SOCK" "$T/ex-q.eml" --json >"$T/ex.json" 2>&1
jq -e '.modifications[] | select(.action == "quarantine") | .reason == "DMARC policy of q.example"' "$T/ex.json" >/dev/null \
    && pass "auth: examples/auth: a p=quarantine failure is quarantined" || fail "auth: examples/auth: quarantine" "$(jq -c . "$T/ex.json")"
stop_site examples/auth

######## [dkim.keys] errors: file, line and key named, exit 78
# conf_error NAME WANT KEYLINES: pmilter -t on a config with KEYLINES exits 78 naming WANT.
conf_error() {
    new_site conferr
    printf '%b' "$3" >>"$CONF"
    handler eom 'Pmilter::Session.new.dkim'
    local out rc
    out=$("$PMILTER" -t -c "$CONF" 2>&1); rc=$?
    if [ $rc = 78 ] && grep -qF -- "$2" <<<"$out"; then pass "$1"; else fail "$1" "rc=$rc: $out"; fi
}
conf_error "auth: config: a missing key file" "pmilter.conf:6: dkim.keys.main.file: cannot read key $T/nothere.pem" \
    "[dkim.keys.main]\nfile = \"$T/nothere.pem\"\n"
cp "$K/rsa.pem" "$T/open.pem"; chmod 644 "$T/open.pem"
conf_error "auth: config: a key readable by every user" "dkim.keys.main.file: $T/open.pem is accessible to every user (mode 0644)" \
    "[dkim.keys.main]\nfile = \"$T/open.pem\"\n"
printf 'not a key\n' >"$T/junk.pem"; chmod 600 "$T/junk.pem"
conf_error "auth: config: a file that is not a PEM key" "dkim.keys.main.file: $T/junk.pem: not a PEM private key" \
    "[dkim.keys.main]\nfile = \"$T/junk.pem\"\n"
conf_error "auth: config: a key without file" "dkim.keys.main: missing file" "[dkim.keys.main]\npath = \"x\"\n"

suite_exit
