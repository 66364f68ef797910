#!/bin/bash
# pmilter-client tests: every verdict and modification against refmilter (a libmilter
# milter steered by argv, test/client/refmilter.c), the negotiated NO/NR/SKIP flags and
# symbol lists, protocol errors (exit 3), the load generator, and finally against ./pmilter
# with the bundled config. One "PASS: name" or "FAIL: name: why" line per test.
# checks: 85  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
. test/lib.sh
BUILD=${BUILD:-build/default}
CLIENT=$ROOT/$BUILD/pmilter-client
REF=$ROOT/$BUILD/refmilter
tmpdir

for b in "$CLIENT" "$REF"; do
    if [ ! -x "$b" ]; then
        fail "client-build" "$b not built (run make test-build)"
        exit 1
    fi
done
command -v jq >/dev/null || { fail "client-deps" "jq missing (scripts/packages/client.txt)"; exit 1; }

# start_ref NAME ARGS...: refmilter on $T/NAME.sock logging to $T/NAME.log; sets SPEC.
start_ref() {
    local name=$1; shift
    SPEC=unix:$T/$name.sock
    "$REF" -p "$SPEC" --log "$T/$name.log" --body-out "$T/$name.body" "$@" 2>>"$T/$name.err" &
    on_exit "kill -9 $!"
    wait_for unix_listening "$T/$name.sock" || { echo "refmilter $name did not start: $(cat "$T/$name.err")" >&2; return 1; }
}

# client NAME ARGS...: runs the client, output in $T/NAME.out, exit status in RC.
client() {
    local name=$1; shift
    LAST=$name
    "$CLIENT" "$@" >"$T/$name.out" 2>"$T/$name.stderr"
    RC=$?
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/$name.stderr"; then
        RC=99
        echo "sanitizer report in pmilter-client: $(grep -m1 -E 'ERROR|runtime error' "$T/$name.stderr")" >&2
    fi
}

# expect NAME WANT_RC PATTERN...: pass if the last client run exited WANT_RC and printed every pattern.
expect() {
    local name=$1 want=$2 out=$T/$LAST.out; shift 2
    if [ "$RC" != "$want" ]; then fail "$name" "exit $RC, want $want; output: $(tr '\n' '|' <"$out") $(cat "$T/$LAST.stderr")"; return; fi
    local p
    for p in "$@"; do
        if ! grep -qF -- "$p" "$out"; then fail "$name" "output lacks '$p': $(tr '\n' '|' <"$out")"; return; fi
    done
    pass "$name"
}

# in_log NAME FILE PATTERN / not_in_log: check what refmilter received.
in_log() { grep -qF -- "$3" "$2" && pass "$1" || fail "$1" "$(basename "$2") lacks '$3'"; }
not_in_log() { grep -qF -- "$3" "$2" && fail "$1" "$(basename "$2") has '$3'" || pass "$1"; }

M=$T/m.eml
printf 'From: Alice <alice@example.com>\nTo: Bob <bob@example.org>, carol@example.net (Carol)\nSubject: hello\n  folded part\nX-Empty:\n\nline one\nline two\n' >"$M"

# --- every modification at eom, text and JSON ---
start_ref mods --addheader "X-Test=yes" --insheader "0:X-First=1" --chgheader "1:Subject=new" --chgheader "1:X-Empty=" \
    --chgfrom "<new@x> SIZE=1" --addrcpt "<add@x>" --addrcpt-par "<addp@x> NOTIFY=NEVER" --delrcpt "<bob@example.org>" \
    --replbody 'new body\nsecond line\nthird\n' --quarantine "looks bad" --progress 2
client mods -s "$SPEC" "$M" --macro 'envfrom:{auth_type}=PLAIN' --macro 'X-Conn=1' --macro helo:{helo_x}=h --macro eom:{eom_x}=e
expect mods 0 "add header: X-Test: yes" "insert header at 0: X-First: 1" "change header Subject[1]: new" \
    "delete header X-Empty[1]" "change from: <new@x> args: SIZE=1" "add rcpt: <add@x>" "add rcpt: <addp@x> args: NOTIFY=NEVER" \
    "delete rcpt: <bob@example.org>" "replace body: 30 bytes" "| second line" "quarantine: looks bad" "progress replies: 2" \
    "verdict: continue at eom (exit 0)"
L=$T/mods.log
in_log envelope-from-default "$L" "envfrom <alice@example.com>"
in_log envelope-to-default-1 "$L" "envrcpt <bob@example.org>"
in_log envelope-to-default-2 "$L" "envrcpt <carol@example.net>"
in_log header-folded "$L" 'header Subject=hello\n  folded part'
in_log header-empty "$L" 'header X-Empty='
in_log macro-connect-default "$L" "macro connect {daemon_name}=pmilter-client"
in_log macro-envfrom-phase "$L" "macro envfrom {auth_type}=PLAIN"
not_in_log macro-envfrom-not-at-connect "$L" "macro connect {auth_type}"
in_log macro-mail-addr "$L" "macro envfrom {mail_addr}=alice@example.com"
in_log macro-rcpt-addr "$L" "macro envrcpt {rcpt_addr}=carol@example.net"
in_log connect-family-4 "$L" "connect localhost 4 127.0.0.1 40000"
if printf 'line one\r\nline two\r\n' | cmp -s - "$T/mods.body"; then pass body-crlf; else fail body-crlf "body not CRLF: $(od -c "$T/mods.body" | head -3)"; fi

start_ref macros --macro X-Conn --macro '{helo_x}' --macro '{eom_x}'
client macros -s "$SPEC" "$M" --macro 'X-Conn=1' --macro helo:{helo_x}=h --macro eom:{eom_x}=e
in_log macro-user-connect "$T/macros.log" "macro connect X-Conn=1"
in_log macro-user-helo "$T/macros.log" "macro helo {helo_x}=h"
in_log macro-user-eom "$T/macros.log" "macro eom {eom_x}=e"
not_in_log macro-user-eom-only-at-eom "$T/macros.log" "macro eoh {eom_x}"

client mods-json -s "$SPEC" "$M" --json
mods_json=$T/mods-json.out
client mods-json -s "unix:$T/mods.sock" "$M" --json
if [ "$RC" = 0 ] && jq -e '.verdict == "continue" and .exit == 0 and (.modifications | length) == 10
        and .modifications[0] == {"action":"add_header","name":"X-Test","value":"yes"}
        and .modifications[3].action == "delete_header"
        and .modifications[8].size == 30 and .modifications[8].first_lines[1] == "second line"
        and .modifications[9].reason == "looks bad" and .protocol.version == 6
        and ([.phases[].phase] == ["connect","helo","envfrom","envrcpt","envrcpt","data","header","eoh","body","eom"])' \
        "$mods_json" >/dev/null 2>&1; then pass json-mods; else fail json-mods "rc $RC: $(cat "$mods_json")"; fi

# JSON escaping: quotes, backslash, control characters, invalid UTF-8 in a header value
start_ref esc --addheader "$(printf 'X-Esc=a"b\\c\td\001e\377f \xc3\xa9')"
client esc -s "$SPEC" "$M" --json
v=$(jq -r '.modifications[0].value' "$T/esc.out" 2>/dev/null)
if [ "$v" = "$(printf 'a"b\\c\td\001e\xef\xbf\xbdf \xc3\xa9')" ]; then pass json-escape; else fail json-escape "got '$v' from $(cat "$T/esc.out")"; fi

# --- envelope options, ESMTP args, client address families, helo ---
start_ref env
client env -s "$SPEC" "$M" --from '<x@y> SIZE=100 BODY=8BITMIME' --to 'r1@z' --to '<r2@z> NOTIFY=NEVER' \
    --client-ip 2001:db8::1 --client-host mx.example --client-port 2525 --helo helo.example
expect env 0 "verdict: continue at eom"
in_log envfrom-args "$T/env.log" "envfrom <x@y> SIZE=100 BODY=8BITMIME"
in_log envrcpt-bare-bracketed "$T/env.log" "envrcpt <r1@z>"
in_log envrcpt-args "$T/env.log" "envrcpt <r2@z> NOTIFY=NEVER"
not_in_log envrcpt-override "$T/env.log" "envrcpt <bob@example.org>"
in_log connect-family-6 "$T/env.log" "connect mx.example 6 2001:db8::1 2525"
in_log helo-name "$T/env.log" "helo helo.example"
client env-u -s "$SPEC" "$M" --client-ip unknown
in_log connect-family-u "$T/env.log" "connect localhost U - 0"
printf 'Subject: no envelope\n\nbody\n' >"$T/noenv.eml"
client noenv -s "$SPEC" "$T/noenv.eml"
expect no-recipient-is-error 3 "no recipient"
client noenv-null -s "$SPEC" "$T/noenv.eml" --to a@b
in_log null-sender-default "$T/env.log" "envfrom <>"

# --- verdicts at each phase ---
verdict_case() { # NAME "REF ARGS" WANT_RC PATTERNS...; REF ARGS split on ';'
    local name=$1 want=$3 args
    IFS=';' read -r -a args <<<"$2"
    shift 3
    start_ref "$name" "${args[@]}" || { fail "$name" "refmilter did not start"; return; }
    client "$name" -s "$SPEC" "$M"
    expect "$name" "$want" "$@"
}
verdict_case reject-connect "--verdict;connect=reject" 1 "connect localhost [127.0.0.1]: reject" "verdict: reject at connect (exit 1)"
verdict_case tempfail-helo "--verdict;helo=tempfail" 2 "helo localhost: tempfail" "verdict: tempfail at helo (exit 2)"
verdict_case reject-envfrom-reply "--verdict;envfrom=reject;--reply;envfrom=550 5.7.1 go away" 1 \
    "envfrom <alice@example.com>: reject: 550 5.7.1 go away" "verdict: reject at envfrom: 550 5.7.1 go away (exit 1)"
not_in_log reject-envfrom-stops "$T/reject-envfrom-reply.log" "envrcpt"
verdict_case tempfail-envfrom-reply "--verdict;envfrom=tempfail;--reply;envfrom=451 4.7.1 later" 2 "451 4.7.1 later"
verdict_case accept-envrcpt "--verdict;envrcpt=accept" 0 "verdict: accept at envrcpt (exit 0)"
not_in_log accept-envrcpt-skips-rest "$T/accept-envrcpt.log" "data"
verdict_case reject-all-rcpts "--verdict;envrcpt=reject" 1 "verdict: reject at envrcpt (exit 1)"
not_in_log reject-all-rcpts-no-data "$T/reject-all-rcpts.log" "data"
verdict_case reject-one-rcpt "--reject-rcpt;<bob@example.org>" 0 "envrcpt <bob@example.org>: reject: 550 5.1.1 no such user" \
    "envrcpt <carol@example.net>: continue" "verdict: continue at eom (exit 0)"
verdict_case discard-data "--verdict;data=discard" 1 "data: discard" "verdict: discard at data (exit 1)"
verdict_case reject-header "--verdict;header=reject" 1 "header (1 of 4) From: reject" "verdict: reject at header"
verdict_case tempfail-eoh "--verdict;eoh=tempfail" 2 "eoh: tempfail"
verdict_case reject-body "--verdict;body=reject" 1 "body (1 of 1 chunks, 20 bytes): reject"
verdict_case accept-eom "--verdict;eom=accept" 0 "eom: accept" "verdict: accept at eom (exit 0)"
verdict_case discard-eom "--verdict;eom=discard" 1 "verdict: discard at eom (exit 1)"
verdict_case tempfail-eom "--verdict;eom=tempfail" 2 "verdict: tempfail at eom (exit 2)"
verdict_case multiline-reply "--verdict;eom=reject;--reply;eom=550 5.7.1 first line|second line|third line" 1 \
    "eom: reject: 550-5.7.1 first line" "    550-5.7.1 second line" "    550 5.7.1 third line"
client multiline-json -s "unix:$T/multiline-reply.sock" "$M" --json
if jq -e '.reply == "550-5.7.1 first line\r\n550-5.7.1 second line\r\n550 5.7.1 third line" and .exit == 1' \
    "$T/multiline-json.out" >/dev/null 2>&1; then pass multiline-json; else fail multiline-json "$(cat "$T/multiline-json.out")"; fi

# --- body chunking, skip, negotiated NO/NR flags, symbol lists, leading space ---
{ printf 'From: a@b\nTo: c@d\nSubject: big\n\n'; for i in $(seq 1 2500); do printf '%059d\n' "$i"; done; } >"$T/big.eml"
start_ref chunks
client chunks -s "$SPEC" "$T/big.eml"
expect chunks 0 "body (3 of 3 chunks, 152500 bytes): continue"
if [ "$(grep '^body ' "$T/chunks.log" | tr '\n' ' ')" = "body 65535 body 65535 body 21430 " ]; then pass chunk-sizes
else fail chunk-sizes "$(grep '^body ' "$T/chunks.log" | tr '\n' ' ')"; fi
start_ref skip --skip-body
client skip -s "$SPEC" "$T/big.eml"
expect skip 0 "body (1 of 3 chunks, 65535 bytes): skip" "eom: continue"
[ "$(grep -c '^body ' "$T/skip.log")" = 1 ] && pass skip-stops-body || fail skip-stops-body "$(grep -c '^body ' "$T/skip.log") chunks received"
in_log skip-then-eom "$T/skip.log" "eom"
start_ref no --no connect,helo,header,body,eoh,data
client no -s "$SPEC" "$M"
expect no 0 "connect localhost [127.0.0.1]: not_sent" "header (0 of 4): not_sent" "body (0 of 1 chunks, 0 bytes): not_sent"
not_in_log no-connect "$T/no.log" "connect localhost"
not_in_log no-helo "$T/no.log" "helo "
not_in_log no-headers "$T/no.log" "header "
not_in_log no-body "$T/no.log" "body "
in_log no-still-eom "$T/no.log" "eom"
start_ref nr --nr connect,helo,envfrom,envrcpt,data,header,eoh,body
start=$(date +%s%N)
client nr -s "$SPEC" "$T/big.eml" --timeout 3
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect nr 0 "envfrom <a@b>: no_reply" "header (3 of 3): no_reply" "body (3 of 3 chunks, 152500 bytes): no_reply" "eom: continue"
[ "$elapsed" -lt 2000 ] && pass nr-does-not-wait || fail nr-does-not-wait "took $elapsed ms"
start_ref symlist --symlist '2={mail_addr} {auth_type}'
client symlist -s "$SPEC" "$M"
in_log symlist-kept "$T/symlist.log" "macro envfrom {mail_addr}=alice@example.com"
not_in_log symlist-filtered "$T/symlist.log" "macro envfrom {mail_host}"
start_ref leadspc --leadspc
client leadspc -s "$SPEC" "$M"
in_log leadspc-kept "$T/leadspc.log" 'header Subject= hello\n  folded part'

# --- protocol errors: exit 3 ---
start_ref exit --exit-at body
client exit -s "$SPEC" "$M"
expect closed-mid-message 3 "milter closed the connection waiting for the body reply" "verdict: error (exit 3)"
client local-spec -s "local:$T/mods.sock" "$M"
expect local-spec 0 "verdict: continue at eom (exit 0)"
client stdin -s "unix:$T/mods.sock" - <"$M"
expect stdin-message 0 "verdict: continue at eom"
client refused -s "unix:$T/nothing.sock" "$M"
expect connection-refused 3 "error: connect unix:$T/nothing.sock"
"$REF" -p "unix:$T/garbage.sock" --raw garbage & on_exit "kill -9 $!"
wait_for test -S "$T/garbage.sock"
client garbage -s "unix:$T/garbage.sock" "$M"
expect bad-frame 3 "bad frame from milter during option negotiation"
"$REF" -p "unix:$T/early.sock" --raw early-action & on_exit "kill -9 $!"
wait_for test -S "$T/early.sock"
client early -s "unix:$T/early.sock" "$M"
expect action-outside-eom 3 "add header during connect"
start_ref slow --sleep-at envfrom=3
client slow -s "$SPEC" "$M" --timeout 1
expect timeout 3 "timeout after 1 s waiting for the envfrom reply"
client slow-json -s "$SPEC" "$M" --timeout 0.5 --json
jq -e '.exit == 3 and .verdict == "error" and (.error | test("timeout"))' "$T/slow-json.out" >/dev/null 2>&1 \
    && pass error-json || fail error-json "$(cat "$T/slow-json.out")"
# elapsed_ms: connect to close, so the 0.5 s the milter kept us waiting, and not the seconds it slept on
jq -e '.elapsed_ms >= 450 and .elapsed_ms < 3000' "$T/slow-json.out" >/dev/null 2>&1 \
    && pass elapsed-json || fail elapsed-json "$(cat "$T/slow-json.out")"

# --- inet transports ---
port=$((20000 + RANDOM % 20000))
"$REF" -p "inet:$port@127.0.0.1" --log "$T/inet.log" & on_exit "kill -9 $!"
wait_for _listening "inet:$port@127.0.0.1"
client inet -s "inet:$port@127.0.0.1" "$M"
expect inet 0 "verdict: continue at eom (exit 0)"
if [ -n "$(ip -6 addr show lo 2>/dev/null | grep '::1')" ] || [ -e /proc/net/if_inet6 ]; then
    port6=$((port + 1))
    "$REF" -p "inet6:$port6@::1" --log "$T/inet6.log" 2>"$T/inet6.err" & on_exit "kill -9 $!"
    wait_for _listening "inet6:$port6@::1"
    client inet6 -s "inet6:$port6@[::1]" "$M"
    expect inet6 0 "verdict: continue at eom (exit 0)"
else
    fail inet6 "no IPv6 loopback in this environment"
fi

# --- usage ---
client usage -h
expect usage-help 0 "usage: pmilter-client -s SPEC"
client usage-bad -s "$SPEC"
[ "$RC" = 64 ] && grep -q "missing the message file" "$T/usage-bad.stderr" && pass usage-error || fail usage-error "exit $RC"
client usage-macro -s "$SPEC" "$M" --macro 'body:x=1'
[ "$RC" = 64 ] && pass usage-bad-macro || fail usage-bad-macro "exit $RC"

# --- load generator ---
start_ref load --addheader "X-Load=1"
client load --load -s "$SPEC" -c 2 -m 5 -t 1 -b 70000 --headers 7 --json
if [ "$RC" = 0 ] && jq -e '.messages > 0 and .errors == 0 and .verdicts.continue == .messages
        and .modifications == .messages and .connections >= 2 and .latency_ms.p50 > 0 and .cpu_us_per_msg > 0' \
        "$T/load.out" >/dev/null; then pass load-json; else fail load-json "rc $RC: $(cat "$T/load.out")"; fi
client load-text --load -s "$SPEC" -c 1 -m 100 -t 0.5
expect load-text 0 "messages:" "msg/s" "p50" "p99" "client cpu:" "errors:     0"
start_ref load-reject --verdict envfrom=reject
client load-reject --load -s "$SPEC" -c 1 -m 10 -t 0.5 --json
jq -e '.messages > 0 and .verdicts.reject == .messages and .errors == 0' "$T/load-reject.out" >/dev/null 2>&1 \
    && pass load-reject || fail load-reject "$(cat "$T/load-reject.out")"
start_ref load-flags --skip-body --nr header,eoh --no helo
client load-flags --load -s "$SPEC" -c 2 -m 3 -t 0.5 -b 200000 --json
jq -e '.messages > 0 and .errors == 0' "$T/load-flags.out" >/dev/null 2>&1 \
    && pass load-skip-nr || fail load-skip-nr "$(cat "$T/load-flags.out")"
client load-refused --load -s "unix:$T/nothing.sock" -c 1 -m 1 -t 0.2 --json
[ "$RC" = 3 ] && jq -e '.errors > 0 and .messages == 0' "$T/load-refused.out" >/dev/null 2>&1 \
    && pass load-refused || fail load-refused "rc $RC: $(cat "$T/load-refused.out")"

# --- against pmilter with the bundled config ---
if [ ! -x "$PMILTER" ]; then
    fail pmilter-accept "./pmilter not built"
    fail pmilter-reject-envfrom "./pmilter not built"
else
    sed -e "s|^\([[:space:]]*listen[[:space:]]*=[[:space:]]*\)\".*\"|\1\"$T/pmilter.sock\"|" \
        -e "s|\"handler/|\"$ROOT/handler/|g" pmilter.conf >"$T/pmilter.conf"
    if start_pmilter "$T/pmilter.conf"; then
        client pm-accept -s "unix:$T/pmilter.sock" "$M" --json
        if [ "$RC" = 0 ] && jq -e '(.verdict == "continue" or .verdict == "accept")
                and any(.modifications[]; .action == "add_header" and .name == "X-Pmilter" and .value == "Enable")' \
                "$T/pm-accept.out" >/dev/null 2>&1; then pass pmilter-accept
        else fail pmilter-accept "rc $RC: $(cat "$T/pm-accept.out")"; fi
        client pm-reject -s "unix:$T/pmilter.sock" "$M" --from '<spam-from@example.com>'
        expect pmilter-reject-envfrom 1 "envfrom <spam-from@example.com>: reject" "verdict: reject at envfrom (exit 1)"
        stop_pmilter
    else
        fail pmilter-accept "pmilter did not start: $(head -3 "$PM_ERR")"
        fail pmilter-reject-envfrom "pmilter did not start"
    fi
fi
suite_exit
