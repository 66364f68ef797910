#!/bin/bash
# End-to-end suite: pmilter behind a real, private Postfix instance (see
# test/e2e/postfix.sh), mail sent with swaks, and checks on what a user sees:
# the SMTP replies, the delivered messages, Postfix's log, pmilter's stdout.
# Prints one "PASS: name" / "FAIL: name: why" line per test.
#   instance A (smtpd_milters = unix socket): dead milter, the bundled config
#     and handlers, a verdict at RCPT, a raising handler, what an eom-only
#     handler sees, modifications at eom, listen = "unix:..."; the handler
#     API's replies (set_reply, reject!(text)) and edits (headers, recipients,
#     body, quarantine); the production socket setup (root under the systemd
#     unit's capabilities, listen_owner/group/mode, user/group)
#   instance B (inet milter, STARTTLS, AUTH PLAIN): listen = "inet:...",
#     TLS and SASL facts
# Then the same flows behind a private Sendmail 8.17 (test/e2e/sendmail.sh,
# tests in test/e2e/t_sendmail.sh, names sm-*).
# Each pmilter run ends with a NAME-clean-exit test (exit 0, no sanitizer report).
# Environment: PMILTER (binary under test), PF_WAIT (deadline of each wait, s).
# checks: 72  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
source test/lib.sh
source test/e2e/postfix.sh
source test/e2e/sendmail.sh
# Interrupted: still stop Postfix and pmilter (lib.sh's cleanup runs on EXIT).
trap 'exit 130' INT
trap 'exit 143' TERM

if ! pf_install scripts/packages/e2e.txt; then
    fail e2e-packages "cannot install scripts/packages/e2e.txt (postfix, swaks, sasl2-bin, m4, ...)"
    exit 1
fi
tmpdir
FX=$T/fixtures                      # pmilter configs and handlers for this run
cp -r test/e2e/fixtures "$FX"
SOCK_DIR=$T/pmsock                  # root's until the socket-owner test
SOCK=$SOCK_DIR/pm.sock
mkdir -m 0755 "$SOCK_DIR"
HELO=e2e-client.test.example

# ---- helpers -------------------------------------------------------------

# must WHY CMD...: run CMD; if it fails, record WHY for the test's FAIL line.
must() {
    local w=$1; shift
    "$@" && return 0
    why=$w
    return 1
}

# run_test NAME CMD...: one PASS/FAIL line for CMD; on failure the transcript,
# pmilter's output and the log tail follow, indented (not counted).
run_test() {
    local name=$1; shift
    why=
    pf_clear_mail
    rm -f "$T/swaks.out"
    if "$@"; then
        pass "$name"
    else
        fail "$name" "${why:-failed}"
        [ -f "$T/swaks.out" ] && {
            echo "swaks:"; grep -v '^ [-~]> [A-Za-z-]*: ' "$T/swaks.out"
            [ -n "${PM_OUT:-}" ] && { echo "pmilter stdout:"; tail -20 "$PM_OUT"; echo "pmilter stderr:"; tail -20 "$PM_ERR"; }
            echo "maillog:"; tail -15 "$PF_LOG"
        } 2>/dev/null | sed 's/^/  | /'
    fi
}

# pm_conf NAME LISTEN [PHASE=HANDLER ...]: write $FX/NAME.conf; handler files
# are named relative to the config file, as users write them.
pm_conf() {
    local f=$FX/$1.conf kv; shift
    printf '[server]\nlisten = "%s"\nlog_level = "info"\n\n[handler.session]\n' "$1" >"$f"
    shift
    for kv in "$@"; do printf 'mruby_%s_handler = "%s"\n' "${kv%%=*}" "${kv#*=}" >>"$f"; done
    echo "$f"
}

# The bundled pmilter.conf with its handler/ scripts, listening on LISTEN.
seed_conf() {
    mkdir -p "$FX/seed"
    ln -sfn "$REPO/handler" "$FX/seed/handler"
    sed 's#^\([[:space:]]*listen[[:space:]]*=[[:space:]]*\)".*"#\1"'"$1"'"#' pmilter.conf >"$FX/seed/pmilter.conf"
    echo "$FX/seed/pmilter.conf"
}

# pm_start CONF: pmilter on CONF; its socket must be writable by user postfix.
PM_STARTED=0
pm_start() {
    local mask rc spec
    spec=$(_listen_of "$1")
    case "$spec" in inet*) ;; *) rm -f "${spec#unix:}" ;; esac   # no stale socket to mistake for ours
    mask=$(umask); umask 000
    start_pmilter "$1"; rc=$?
    umask "$mask"
    PM_STARTED=1
    return $rc
}

# pm_stop NAME: stop pmilter; "NAME-clean-exit" passes if it exited 0 on
# SIGTERM with no sanitizer report on its stderr.
pm_stop() {
    [ "$PM_STARTED" = 1 ] || return 0
    PM_STARTED=0
    stop_pmilter
    if [ "${PM_STATUS:-0}" -ne 0 ] && ! grep -qE 'Sanitizer|runtime error' "$PM_ERR"; then
        fail "$1-clean-exit" "pmilter exited $PM_STATUS on SIGTERM: $(tail -1 "$PM_ERR")"
    else
        check_sanitizer_clean "$1-clean-exit"
    fi
    PM_OUT='' PM_ERR=''
}

# pm_up CONF: pm_start inside a test, the reason recorded if it fails.
pm_up() {
    [ -x "$PMILTER" ] || { why="no pmilter binary at $PMILTER (run make)"; return 1; }
    must "pmilter did not start on $(basename "$1") (its stderr is above)" pm_start "$1"
}

delivered_count() { pf_delivered | wc -l; }
# A delivered copy for recipient ADDR (virtual(8) writes Delivered-To).
copy_for() { local f; for f in $(pf_delivered); do grep -qxF "Delivered-To: $1" "$f" && return 0; done; return 1; }
no_copy_for() { ! copy_for "$1"; }
# A header line matching REGEX in each delivered message, and at least one message.
all_delivered_have() { local f n=0; for f in $(pf_delivered); do grep -qE "$1" "$f" || return 1; n=$((n + 1)); done; [ $n -gt 0 ]; }
nothing_delivered() { [ -z "$(pf_delivered)" ] && [ -z "$(pf_queue)" ]; }
all_set() { local v; for v in "$@"; do [ -n "$v" ] || return 1; done; }
# reply_is GLOB CMD: swaks' reply code to CMD matches GLOB (e.g. '4[0-9][0-9]').
# shellcheck disable=SC2053
reply_is() { [[ "$(pf_reply "$T/swaks.out" "$2")" == $1 ]]; }
send() { pf_send "$T/swaks.out" --helo "$HELO" "$@"; }
# send_ok N ARGS...: send with swaks ARGS; 250 at end of DATA, then N delivered copies.
send_ok() {
    local n=$1; shift
    send "$@"
    must "expected 250 at end of DATA, got '$(pf_reply "$T/swaks.out" ".")'" reply_is 250 "." || return 1
    must "expected $n delivered copies, got $(delivered_count)" pf_delivered --wait "$n" >/dev/null
}

# ---- instance A: unix socket ---------------------------------------------

PORT_A=$(pf_free_port)
if ! pf_start "$T/pfa" "$PORT_A" "unix:$SOCK"; then
    fail e2e-postfix-start "private Postfix did not start (see above)"
    exit 1
fi

# 5. Nothing listens on the milter socket: milter_default_action = tempfail.
t_dead_milter() {
    send --from alice@example.com --to bob@example.org
    must "expected 4xx at MAIL FROM with no milter, got '$(pf_reply "$T/swaks.out" "MAIL FROM")'" \
        reply_is '4[0-9][0-9]' "MAIL FROM" || return 1
    must "Postfix log has no milter connect failure for unix:$SOCK" \
        pf_log --wait "warning: connect to Milter service unix:$SOCK: No such file or directory" >/dev/null || return 1
    must "a message was delivered or queued" nothing_delivered
}
run_test dead-milter-tempfails t_dead_milter

# 1. The bundled config and handlers: the header, and what the handlers print.
t_seed_flow() {
    pm_up "$(seed_conf "$SOCK")" || return 1
    send_ok 1 --from alice@example.com --to bob@example.org || return 1
    must "delivered message has no 'X-Pmilter: Enable' header" all_delivered_have '^X-Pmilter: Enable$' || return 1
    must "pmilter stdout shows no client address line with 127.0.0.1" wait_for grep -qE "ipaddr.*\b127\.0\.0\.1\b" "$PM_OUT" || return 1
    must "pmilter stdout shows no helo line with $HELO" wait_for grep -qE "helo.*\b$HELO\b" "$PM_OUT"
}
run_test seed-flow t_seed_flow

# 2. The bundled mail_from.rb rejects <spam-from@example.com>.
t_seed_reject() {
    [ "$PM_STARTED" = 1 ] || { why="pmilter is not running (see seed-flow)"; return 1; }
    send --from spam-from@example.com --to bob@example.org
    must "expected 5xx at MAIL FROM, got '$(pf_reply "$T/swaks.out" "MAIL FROM")'" \
        reply_is '5[0-9][0-9]' "MAIL FROM" || return 1
    must "Postfix log names no milter reject of MAIL FROM" \
        pf_log --wait 'NOQUEUE: milter-reject: MAIL from unknown\[127\.0\.0\.1\]: 5[0-9][0-9] .*from=<spam-from@example\.com>' \
        >/dev/null || return 1
    must "a message was delivered or queued" nothing_delivered
}
run_test seed-reject-mail-from t_seed_reject

# The bundled eom.rb: <change-from@example.com> becomes <new-from@example.com>,
# and <add-to@example.com> brings <new-to@example.com> along.
t_seed_modify() {
    [ "$PM_STARTED" = 1 ] || { why="pmilter is not running (see seed-flow)"; return 1; }
    send_ok 2 --from change-from@example.com --to add-to@example.com || return 1
    must "no copy for the added <new-to@example.com>" copy_for new-to@example.com || return 1
    must "a delivered copy's Return-Path is not <new-from@example.com>" all_delivered_have '^Return-Path: <new-from@example\.com>$'
}
run_test seed-change-from-add-to t_seed_modify

# Started as root without `user`: one warning, however many mails were filtered.
t_root_warning() {
    local n; n=$(grep -c 'running handlers as root' "$PM_ERR")
    must "expected one 'running handlers as root' warning in pmilter's log, got $n" [ "$n" -eq 1 ]
}
run_test root-without-user-warns-once t_root_warning
pm_stop seed

# 3. A handler's verdict at RCPT: TEMPFAIL for one recipient, the other one passes.
t_rcpt_tempfail() {
    pm_up "$(pm_conf rcpt "$SOCK" envrcpt=rcpt_tempfail.rb)" || return 1
    send --from alice@example.com --to ok@example.org,tempfail@example.org
    must "expected 250 for RCPT TO:<ok@example.org>, got '$(pf_reply "$T/swaks.out" "RCPT TO:<ok@")'" \
        reply_is 250 "RCPT TO:<ok@" || return 1
    must "expected 4xx for RCPT TO:<tempfail@example.org>, got '$(pf_reply "$T/swaks.out" "RCPT TO:<tempfail@")'" \
        reply_is '4[0-9][0-9]' "RCPT TO:<tempfail@" || return 1
    must "Postfix log names no milter tempfail at RCPT" \
        pf_log --wait 'milter-reject: RCPT from unknown\[127\.0\.0\.1\]: 4[0-9][0-9] .*to=<tempfail@example\.org>' >/dev/null || return 1
    must "the accepted recipient got nothing" pf_delivered --wait 1 >/dev/null || return 1
    must "the tempfailed recipient got a copy" no_copy_for tempfail@example.org
}
run_test rcpt-tempfail t_rcpt_tempfail
pm_stop rcpt
source test/e2e/t_kv_greylist.sh
source test/e2e/t_mime.sh

# ---- the handler API's replies and message edits, one pmilter run ----------

api_up() {
    [ "$PM_STARTED" = 1 ] && return 0
    pm_up "$(pm_conf api "$SOCK" envfrom=envfrom_reject.rb envrcpt=rcpt_reply.rb eom=eom_api.rb)"
}
# reply_text_is TEXT CMD: swaks got exactly TEXT (one line) to CMD.
reply_text_is() { [ "$(pf_reply_text "$T/swaks.out" "$2")" = "$1" ]; }
# The body of delivered message file $1: everything after the first empty line.
body_of() { sed '1,/^$/d' "$1"; }
held() { [ -n "$(pf_queue_hold)" ]; }
not() { ! "$@"; }

# set_reply at RCPT: the client sees exactly that reply; the other recipient passes.
t_set_reply() {
    api_up || return 1
    send --from alice@example.com --to ok@example.org,reply@example.org
    local want="550 5.7.1 e2e: no such mailbox here"
    must "expected '$want' to RCPT TO:<reply@, got '$(pf_reply_text "$T/swaks.out" "RCPT TO:<reply@")'" \
        reply_text_is "$want" "RCPT TO:<reply@" || return 1
    must "expected 250 for RCPT TO:<ok@example.org>" reply_is 250 "RCPT TO:<ok@" || return 1
    must "Postfix log has no milter-reject of RCPT with that text" \
        pf_log --wait 'milter-reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.7\.1 e2e: no such mailbox here; .*to=<reply@example\.org>' \
        >/dev/null || return 1
    must "the accepted recipient got nothing" pf_delivered --wait 1 >/dev/null || return 1
    must "the rejected recipient got a copy" no_copy_for reply@example.org
}
run_test rcpt-set-reply t_set_reply

# reject!(text) at MAIL FROM: "550 5.7.1 text".
t_reject_text() {
    api_up || return 1
    send --from blocked@example.com --to bob@example.org
    local want="550 5.7.1 e2e: sender blocked"
    must "expected '$want' to MAIL FROM, got '$(pf_reply_text "$T/swaks.out" "MAIL FROM")'" \
        reply_text_is "$want" "MAIL FROM" || return 1
    must "Postfix log has no milter-reject of MAIL FROM with that text" \
        pf_log --wait 'NOQUEUE: milter-reject: MAIL from unknown\[127\.0\.0\.1\]: 550 5\.7\.1 e2e: sender blocked; from=<blocked@example\.com>' \
        >/dev/null || return 1
    must "a message was delivered or queued" nothing_delivered
}
run_test mail-from-reject-text t_reject_text

# Headers#insert(0), #change, #delete at eom, as delivered.
t_header_edits() {
    api_up || return 1
    send_ok 1 --from headers@example.com --to bob@example.org --header "Subject: quarterly" \
        --add-header "X-E2E-Drop: please" --add-header "X-E2E-Keep: yes" || return 1
    local f; f=$(pf_delivered)
    must "the Subject was not changed to '[e2e] quarterly'" grep -qx 'Subject: \[e2e\] quarterly' "$f" || return 1
    must "the original Subject is still there" [ "$(grep -c '^Subject:' "$f")" -eq 1 ] || return 1
    must "X-E2E-Drop was not deleted" not grep -q '^X-E2E-Drop:' "$f" || return 1
    must "X-E2E-Keep was lost" grep -qx 'X-E2E-Keep: yes' "$f" || return 1
    must "no inserted X-E2E-First header" grep -qx 'X-E2E-First: inserted at 0' "$f" || return 1
    # Index 0 is the very first header: above even Postfix's own Received
    # (only virtual(8)'s delivery headers come before it in the file).
    must "X-E2E-First is not right above Postfix's Received header" \
        grep -qE '^Received: from e2e-client' <(grep -A1 '^X-E2E-First:' "$f" | tail -1)
}
run_test eom-header-edits t_header_edits

# delete_envelope_to + add_envelope_to: only the new recipient gets a copy.
t_delete_rcpt() {
    api_up || return 1
    send_ok 1 --from rcpt@example.com --to bob@example.org || return 1
    must "no copy for the added <bob-filtered@example.org>" copy_for bob-filtered@example.org || return 1
    must "the deleted recipient <bob@example.org> got a copy" no_copy_for bob@example.org || return 1
    sleep 0.3     # a late second delivery would show up here
    must "expected 1 delivered copy, got $(delivered_count)" [ "$(delivered_count)" -eq 1 ]
}
run_test eom-delete-rcpt t_delete_rcpt

# replace_body: the delivered body is the new one, byte for byte (LF in the maildir).
t_replace_body() {
    api_up || return 1
    send_ok 1 --from body@example.com --to bob@example.org --body "the original body" || return 1
    must "delivered body is not the replacement: $(body_of "$(pf_delivered)" | head -3 | tr '\n' '|')" \
        cmp -s <(body_of "$(pf_delivered)") <(printf 'replaced by pmilter\nsecond line\n')
}
run_test eom-replace-body t_replace_body

# quarantine: 250 to the client, the message in Postfix's hold queue, not delivered.
t_quarantine() {
    api_up || return 1
    send --from hold@example.com --to bob@example.org
    must "expected 250 at end of DATA, got '$(pf_reply "$T/swaks.out" ".")'" reply_is 250 "." || return 1
    must "Postfix log has no milter-hold line" \
        pf_log --wait 'milter-hold: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: milter triggers HOLD action; from=<hold@example\.com>' \
        >/dev/null || return 1
    must "the hold queue is empty" _pf_poll held || return 1
    local id; id=$(pf_queue_hold)
    must "postqueue -p does not list $id as held (!)" \
        grep -qE "^$id!" <(postqueue -c "$PF_DIR/etc" -p) || return 1
    must "the held message was delivered" [ "$(delivered_count)" -eq 0 ]
}
run_test eom-quarantine-hold t_quarantine
postsuper -c "$PF_DIR/etc" -d ALL hold >/dev/null 2>&1   # nothing queued for the next tests
pm_stop api

# 4. A handler that raises at eom: 4xx, nothing delivered, and pmilter keeps serving.
t_eom_raise() {
    pm_up "$(pm_conf raise "$SOCK" envfrom=noop.rb eom=eom_raise.rb)" || return 1
    send --from raise@example.com --to bob@example.org
    must "expected 4xx at end of DATA, got '$(pf_reply "$T/swaks.out" ".")'" reply_is '4[0-9][0-9]' "." || return 1
    # cleanup(8) logs this one, with the enhanced status code only.
    must "Postfix log names no milter tempfail at END-OF-MESSAGE" \
        pf_log --wait 'milter-reject: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: (4[0-9][0-9] )?4\.[0-9.]+ .*from=<raise@example\.com>' \
        >/dev/null || return 1
    must "the failed message was delivered or is still queued" nothing_delivered || return 1
    must "pmilter's log does not name the failing line (eom_raise.rb:4) and the error" \
        wait_for grep -qE 'eom_raise\.rb:4.*deliberate failure at eom' "$PM_ERR" || return 1
    send_ok 1 --from alice@example.com --to bob@example.org || { why="the next mail: $why"; return 1; }
    must "the next mail was not filtered (no X-E2E-Survived header)" all_delivered_have '^X-E2E-Survived: yes$' || return 1
    must "more than the one good message delivered" [ "$(delivered_count)" -eq 1 ]
}
run_test eom-raise-tempfails t_eom_raise
pm_stop raise

# An eom handler alone (no handler for the earlier phases) still sees the
# client, HELO and envelope of the mail it filters.
t_eom_envelope() {
    pm_up "$(pm_conf envelope "$SOCK" eom=eom_envelope.rb)" || return 1
    send_ok 1 --from alice@example.com --to bob@example.org || return 1
    must "the eom handler printed nothing" wait_for grep -q '^eom: ' "$PM_OUT" || return 1
    local want="eom: client_ipaddr=127.0.0.1 helo=$HELO from=<alice@example.com> to=<bob@example.org>"
    must "eom handler printed '$(grep '^eom: ' "$PM_OUT")', expected '$want'" grep -qxF "$want" "$PM_OUT"
}
run_test eom-sees-envelope t_eom_envelope
pm_stop envelope

# 6. Modifications at eom: a header, the sender, one more recipient.
t_eom_modify() {
    pm_up "$(pm_conf modify "$SOCK" eom=eom_modify.rb)" || return 1
    send_ok 2 --from alice@example.com --to bob@example.org || return 1
    must "no copy for the original recipient" copy_for bob@example.org || return 1
    must "no copy for the added recipient" copy_for added-rcpt@example.net || return 1
    must "a delivered copy lacks the added header" all_delivered_have '^X-E2E-Added: by the eom handler$' || return 1
    must "a delivered copy's Return-Path is not the changed sender" all_delivered_have '^Return-Path: <new-from@example\.com>$'
}
run_test eom-modifications t_eom_modify
pm_stop modify

# 8. t_listen NAME LISTEN: pmilter listening on LISTEN is on the mail's path.
t_listen() {
    pm_up "$(pm_conf "$1" "$2" eom=eom_listen.rb)" || return 1
    send_ok 1 --from alice@example.com --to bob@example.org || return 1
    must "delivered message has no X-E2E-Listen header" all_delivered_have '^X-E2E-Listen: seen$'
}
# The explicit unix: form (the tests above use a bare path).
run_test listen-unix t_listen unix "unix:$SOCK"
pm_stop listen-unix

# ---- the production socket setup (docs/postfix.md, deploy/) ----------------
# pmilter starts as root under the limits of deploy/pmilter.service (its
# CapabilityBoundingSet, NoNewPrivileges, UMask=0077), creates the socket in a
# directory owned by its user with group postfix (0750), gives the socket to
# listen_owner/listen_group with listen_mode, and drops to user/group pmtest, a
# system user made here and removed on exit.
make_pmtest() {
    id pmtest >/dev/null 2>&1 && return 0
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pmtest || return 1
    on_exit "userdel pmtest; groupdel pmtest"
}
# $T/pmilter-unit ARGS: $PMILTER as the unit would run it.
unit_wrapper() {
    local c caps=
    for c in $(sed -n 's/^CapabilityBoundingSet=//p' deploy/pmilter.service); do c=${c#CAP_}; caps+=",+${c,,}"; done
    [ -n "$caps" ] || return 1
    cat >"$T/pmilter-unit" <<EOF
#!/bin/sh
umask 077
exec setpriv --no-new-privs --inh-caps=-all --bounding-set=-all$caps "$PMILTER" "\$@"
EOF
    chmod 755 "$T/pmilter-unit"
}
t_socket_owner() {
    must "cannot create the system user pmtest" make_pmtest || return 1
    must "no CapabilityBoundingSet in deploy/pmilter.service" unit_wrapper || return 1
    chown pmtest:postfix "$SOCK_DIR" && chmod 0750 "$SOCK_DIR" || return 1
    local conf uid gid got real=$PMILTER
    conf=$(pm_conf owner "$SOCK" eom=eom_uid.rb)
    sed -i '/^log_level/a user = "pmtest"\ngroup = "pmtest"\nlisten_owner = "pmtest"\nlisten_group = "postfix"\nlisten_mode = "0660"' "$conf"
    [ -x "$PMILTER" ] || { why="no pmilter binary at $PMILTER (run make)"; return 1; }
    rm -f "$SOCK"
    PMILTER=$T/pmilter-unit PM_STARTED=1
    start_pmilter "$conf"
    got=$?
    PMILTER=$real
    must "pmilter (root, the unit's capabilities) did not start on $(basename "$conf") (its stderr is above)" [ $got -eq 0 ] || return 1
    got=$(stat -c '%U %G %a' "$SOCK")
    must "socket is '$got', expected 'pmtest postfix 660'" [ "$got" = "pmtest postfix 660" ] || return 1
    send_ok 1 --from alice@example.com --to bob@example.org || return 1
    uid=$(id -u pmtest) gid=$(id -g pmtest)
    must "the eom handler printed no Uid line" wait_for grep -q '^eom: Uid:' "$PM_OUT" || return 1
    got=$(grep -m1 '^eom: Uid:' "$PM_OUT" | tr -s ' \t' ' ')
    must "handler ran with '$got', expected pmtest ($uid) as real, effective, saved and fs uid" \
        [ "$got" = "eom: Uid: $uid $uid $uid $uid" ] || return 1
    got=$(grep -m1 '^eom: Gid:' "$PM_OUT" | tr -s ' \t' ' ')
    must "handler ran with '$got', expected group pmtest ($gid)" [ "$got" = "eom: Gid: $gid $gid $gid $gid" ] || return 1
    must "pmilter warned about running as root although user is set" not grep -q 'running handlers as root' "$PM_ERR"
}
run_test socket-owner-and-user t_socket_owner

# systemctl reload (the unit's ExecReload: SIGUSR1) after pmilter dropped root:
# the edited handler is read again as pmtest and runs on the next mail.
t_reload_as_user() {
    if [ "$PM_STARTED" != 1 ] || [ -z "${PM_PID:-}" ]; then why="pmilter is not running (see socket-owner-and-user)"; return 1; fi
    printf 'Pmilter::Session::Headers.new["X-E2E-Reloaded"] = "yes"\n' >>"$FX/eom_uid.rb"
    kill -USR1 "$PM_PID"
    must "pmilter logged no successful reload: $(grep -m1 'reload' "$PM_ERR")" \
        wait_for grep -q 'reloaded .*owner\.conf' "$PM_ERR" || return 1
    send_ok 1 --from alice@example.com --to bob@example.org || return 1
    must "the mail after the reload lacks X-E2E-Reloaded" all_delivered_have '^X-E2E-Reloaded: yes$' || return 1
    must "the socket changed after the reload: $(stat -c '%U %G %a' "$SOCK")" \
        [ "$(stat -c '%U %G %a' "$SOCK")" = "pmtest postfix 660" ]
}
run_test reload-after-drop t_reload_as_user
pm_stop owner
# After dropping root, pmilter still removes its socket (it owns the directory).
check socket-removed-after-drop test ! -e "$SOCK"

# The unit's capability set is minimal: without any one of them, pmilter
# (same config, as root) fails to start instead of serving.
t_caps_minimal() {
    local c drop rest rc caps
    caps=$(sed -n 's/^CapabilityBoundingSet=//p' deploy/pmilter.service)
    for drop in $caps; do
        rest=
        for c in $caps; do [ "$c" = "$drop" ] || { c=${c#CAP_}; rest+=",+${c,,}"; }; done
        (umask 077; timeout 5 \
            setpriv --no-new-privs --inh-caps=-all "--bounding-set=-all$rest" "$PMILTER" -c "$FX/owner.conf" >/dev/null 2>&1)
        rc=$?
        if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then why="pmilter served without $drop: deploy/pmilter.service need not grant it"; return 1; fi
    done
    must "the failed starts left a socket behind" test ! -e "$SOCK"
}
run_test unit-capabilities-minimal t_caps_minimal
source test/e2e/t_dns.sh
source test/e2e/t_auth.sh
pf_stop

# ---- instance B: inet milter, STARTTLS and AUTH --------------------------

PORT_B=$(pf_free_port)
MPORT=$(pf_free_port)
while [ "$MPORT" = "$PORT_B" ]; do MPORT=$(pf_free_port); done
if ! mapfile -t tls_opts < <(pf_tls_sasl "$T/pfb" alice s3cret-e2e) || [ ${#tls_opts[@]} -eq 0 ] \
    || ! pf_start "$T/pfb" "$PORT_B" "inet:127.0.0.1:$MPORT" "${tls_opts[@]}"; then
    fail e2e-postfix-tls-start "private Postfix with TLS and SASL did not start (see above)"
    exit 1
fi

run_test listen-inet t_listen inet "inet:$MPORT@127.0.0.1"
pm_stop listen-inet

# 7. TLS and SASL facts as the handlers see them, against what Postfix logged.
t_tls_sasl() {
    pm_up "$(pm_conf facts "inet:$MPORT@127.0.0.1" helo=helo_facts.rb envfrom=envfrom_facts.rb)" || return 1
    send --from alice@example.com --to bob@example.org --tls --auth PLAIN --auth-user alice --auth-password s3cret-e2e
    must "expected 235 to AUTH PLAIN, got '$(pf_reply "$T/swaks.out" "AUTH PLAIN")'" reply_is 235 "AUTH PLAIN" || return 1
    must "expected 250 at end of DATA, got '$(pf_reply "$T/swaks.out" ".")'" reply_is 250 "." || return 1
    local tls version cipher bits auth user method line
    must "Postfix logged no TLS handshake" \
        pf_log --wait 'TLS connection established from unknown\[127\.0\.0\.1\]' >/dev/null || return 1
    tls=$(pf_log 'TLS connection established from unknown\[127\.0\.0\.1\]' | tail -1)
    # "...: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) ..."
    read -r version cipher bits <<<"$(sed -nE 's/.*: (\S+) with cipher (\S+) \(([0-9]+)\/.*/\1 \2 \3/p' <<<"$tls")"
    auth=$(pf_log 'client=unknown\[127\.0\.0\.1\], sasl_method=' | tail -1)
    method=$(sed -nE 's/.*sasl_method=([^,]+).*/\1/p' <<<"$auth")
    user=$(sed -nE 's/.*sasl_username=([^, ]+).*/\1/p' <<<"$auth")
    must "cannot parse Postfix's TLS line: $tls" all_set "$version" "$cipher" "$bits" || return 1
    must "cannot parse Postfix's SASL line: $auth" all_set "$method" "$user" || return 1
    must "the envfrom handler printed nothing" wait_for grep -q '^envfrom: ' "$PM_OUT" || return 1
    line=$(grep '^envfrom: ' "$PM_OUT" | tail -1)
    local want="envfrom: tls_version=$version cipher=$cipher cipher_bits=$bits auth_authen=$user auth_type=$method"
    must "envfrom handler saw '$line', Postfix logged '$want'" [ "$line" = "$want" ] || return 1
    # The helo handler runs twice: for the EHLO before STARTTLS (no TLS yet)
    # and for the one after it, which carries the TLS facts.
    want="helo: tls_version=$version cipher=$cipher cipher_bits=$bits"
    line=$(grep '^helo: ' "$PM_OUT" | tail -1)
    must "helo handler after STARTTLS saw '$line', Postfix logged '$want'" [ "$line" = "$want" ]
}
run_test tls-sasl-facts t_tls_sasl
pm_stop tls-sasl
pf_stop

# ---- Sendmail ---------------------------------------------------------------
source test/e2e/t_sendmail.sh
suite_exit
