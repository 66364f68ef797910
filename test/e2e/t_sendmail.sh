# The e2e tests against a real Sendmail 8.17 (test/e2e/sendmail.sh), sourced
# by test/e2e/run.sh after the Postfix tests; uses run.sh's helpers (must,
# pm_conf, seed_conf, pm_up, pm_stop, reply_is, reply_text_is, not).
# Sendmail delivers nothing (queue-only): what a handler did is read from the
# queue files, qf (envelope, headers) and df (body), or hf when quarantined.
# Test names start with "sm-". Each checks what a user would see: SMTP replies
# and the queued message. docs/sendmail.md says which test backs which statement.

SM_CACHE=$REPO/build/sendmail
if ! sm_install "$SM_CACHE"; then
    fail sm-install "cannot download or unpack ${SM_DEBS[*]} into $SM_CACHE (see above)"
    return 0
fi
# Sendmail refuses a milter socket below any group- or world-writable
# directory, and the checkout itself may be anywhere (under /tmp, say): so
# the run directory lives in a root-owned 0755 tree of its own.
SM_RUN_BASE=${SM_RUN_BASE:-/var/lib/pmilter-e2e}
mkdir -p -m 0755 "$SM_RUN_BASE" && chmod 0755 "$SM_RUN_BASE"
SM_RUN=$(mktemp -d "$SM_RUN_BASE/run.XXXXXX") || { fail sm-install "cannot make a directory under $SM_RUN_BASE"; return 0; }
chmod 0755 "$SM_RUN"
[ -n "${KEEP_TMP:-}" ] || on_exit "rm -rf '$SM_RUN'"
SM_SOCK_DIR=$SM_RUN/pmsock
SM_SOCK=$SM_SOCK_DIR/pm.sock
mkdir -m 0755 "$SM_SOCK_DIR"
if ! sm_start "$SM_RUN/mta" "$(pf_free_port)" "$SM_SOCK"; then
    fail sm-start "private Sendmail did not start (see above)"
    return 0
fi

# sm_test NAME CMD...: one PASS/FAIL line; on failure the transcript,
# pmilter's output and the end of Sendmail's milter trace follow, indented.
sm_test() {
    local name=$1; shift
    why=
    sm_clear_queue
    rm -f "$T/swaks.out"
    if "$@"; then
        pass "$name"
    else
        fail "$name" "${why:-failed}"
        {
            [ -f "$T/swaks.out" ] && { echo "swaks:"; grep -v '^ [-~]> [A-Za-z-]*: ' "$T/swaks.out"; }
            [ -n "${PM_OUT:-}" ] && { echo "pmilter stdout:"; tail -20 "$PM_OUT"; echo "pmilter stderr:"; tail -20 "$PM_ERR"; }
            echo "queue files:"; (cd "$SM_QUEUE" && head -n 40 -- *)
            echo "sendmail trace:"; tail -15 "$SM_TRACE"
        } 2>/dev/null | sed 's/^/  | /'
    fi
}

sm_mail() { sm_send "$T/swaks.out" --helo "$HELO" "$@"; }
# sm_accepted ARGS...: send; 250 at end of DATA and one message in the queue.
sm_accepted() {
    sm_mail "$@"
    must "expected 250 at end of DATA, got '$(pf_reply "$T/swaks.out" ".")'" reply_is 250 "." || return 1
    must "expected 1 queued message, got $(sm_queue | wc -l)" [ "$(sm_queue | wc -l)" -eq 1 ]
}
nothing_queued() { [ -z "$(ls "$SM_QUEUE")" ]; }
# qf_has REGEX: a line of the one queued message's qf file matches REGEX.
qf_has() { grep -qE -- "$1" "$SM_QUEUE/qf$(sm_queue)"; }
# The queued message's headers as "Name: value" lines, in order.
queued_headers() { sm_headers "$(sm_queue)"; }

# F=T and nothing listens on the socket: the client gets 4xx, nothing is queued.
t_sm_dead_milter() {
    sm_mail --from alice@example.com --to bob@example.org
    local want="451 4.3.2 Please try again later"
    must "expected '$want' at MAIL FROM with no milter, got '$(pf_reply_text "$T/swaks.out" "MAIL FROM")'" \
        reply_text_is "$want" "MAIL FROM" || return 1
    must "a message was queued" nothing_queued
}
sm_test sm-dead-milter-tempfails t_sm_dead_milter

# The bundled config and handlers: what they print, and the header they add.
t_sm_seed_flow() {
    pm_up "$(seed_conf "$SM_SOCK")" || return 1
    sm_accepted --from alice@example.com --to bob@example.org || return 1
    must "queued message has no 'X-Pmilter: Enable' header" qf_has '^H\?\?X-Pmilter: Enable$' || return 1
    local line
    for line in "client_ipaddr: 127.0.0.1" "helo hostname: $HELO" "env from args: <alice@example.com>" \
        "env from symval: alice@example.com" "env to arg: <bob@example.org>" "env to symval: bob@example.org" \
        "myhostname: $SM_HOST" "message_id: $(sm_queue)" "add_header(X-Pmilter:True): Enable"; do
        must "pmilter stdout lacks the line '$line'" wait_for grep -qxF "$line" "$PM_OUT" || return 1
    done
    must "pmilter stdout shows no body chunk" grep -q '^body chunk; This is a test mailing' "$PM_OUT"
}
sm_test sm-seed-flow t_sm_seed_flow

# The bundled mail_from.rb rejects <spam-from@example.com> (SMFIS_REJECT, no text).
t_sm_seed_reject() {
    [ "$PM_STARTED" = 1 ] || { why="pmilter is not running (see sm-seed-flow)"; return 1; }
    sm_mail --from spam-from@example.com --to bob@example.org
    local want="550 5.7.1 <spam-from@example.com>... Command rejected"
    must "expected '$want' at MAIL FROM, got '$(pf_reply_text "$T/swaks.out" "MAIL FROM")'" \
        reply_text_is "$want" "MAIL FROM" || return 1
    must "a message was queued" nothing_queued
}
sm_test sm-seed-reject-mail-from t_sm_seed_reject

# The bundled eom.rb: a new sender, and <new-to@example.com> added.
t_sm_seed_modify() {
    [ "$PM_STARTED" = 1 ] || { why="pmilter is not running (see sm-seed-flow)"; return 1; }
    sm_accepted --from change-from@example.com --to add-to@example.com || return 1
    must "the queued sender is not <new-from@example.com>: $(grep '^S' "$SM_QUEUE"/qf*)" qf_has '^S<new-from@example\.com>$' || return 1
    must "<new-to@example.com> is not a queued recipient" qf_has '^R.*:<new-to@example\.com>$' || return 1
    must "<add-to@example.com> is no longer a queued recipient" qf_has '^R.*:<add-to@example\.com>$'
}
sm_test sm-seed-change-from-add-to t_sm_seed_modify
pm_stop sm-seed

# ---- the handler API's replies and every edit at eom, one pmilter run -------

sm_api_up() {
    [ "$PM_STARTED" = 1 ] && return 0
    pm_up "$(pm_conf sm-api "$SM_SOCK" envfrom=envfrom_reject.rb envrcpt=rcpt_reply.rb eom=sm_eom.rb)"
}

# reject!(text) at MAIL FROM: Sendmail puts the address before a one-line text.
t_sm_reject_text() {
    sm_api_up || return 1
    sm_mail --from blocked@example.com --to bob@example.org
    local want="550 5.7.1 <blocked@example.com>... e2e: sender blocked"
    must "expected '$want' to MAIL FROM, got '$(pf_reply_text "$T/swaks.out" "MAIL FROM")'" \
        reply_text_is "$want" "MAIL FROM" || return 1
    must "a message was queued" nothing_queued
}
sm_test sm-mail-from-reject-text t_sm_reject_text

# set_reply at RCPT: the same prefix; the other recipient passes.
t_sm_set_reply() {
    sm_api_up || return 1
    sm_mail --from alice@example.com --to ok@example.org,reply@example.org
    local want="550 5.7.1 <reply@example.org>... e2e: no such mailbox here"
    must "expected '$want' to RCPT TO:<reply@, got '$(pf_reply_text "$T/swaks.out" "RCPT TO:<reply@")'" \
        reply_text_is "$want" "RCPT TO:<reply@" || return 1
    must "expected 250 for RCPT TO:<ok@example.org>" reply_is 250 "RCPT TO:<ok@" || return 1
    must "expected 250 at end of DATA, got '$(pf_reply "$T/swaks.out" ".")'" reply_is 250 "." || return 1
    must "<ok@example.org> is not queued" qf_has '^R.*:<ok@example\.org>$' || return 1
    must "the rejected <reply@example.org> is queued" not qf_has '^R.*<reply@example\.org>'
}
sm_test sm-rcpt-set-reply t_sm_set_reply

# reject!(text) at end of message: the text as given, nothing queued.
t_sm_eom_reject_text() {
    sm_api_up || return 1
    sm_mail --from eomreject@example.com --to bob@example.org
    local want="550 5.7.1 e2e: rejected at end of message"
    must "expected '$want' at end of DATA, got '$(pf_reply_text "$T/swaks.out" ".")'" \
        reply_text_is "$want" "." || return 1
    must "a message was queued" nothing_queued
}
sm_test sm-eom-reject-text t_sm_eom_reject_text

# Headers#insert(0) and (2), #change, #delete, #add of a name already present.
t_sm_header_edits() {
    sm_api_up || return 1
    sm_accepted --from headers@example.com --to bob@example.org --header "Subject: quarterly" \
        --add-header "X-E2E-Drop: please" --add-header "X-E2E-Dup: original" || return 1
    local hs; hs=$(queued_headers)
    must "the Subject was not changed to '[e2e] quarterly'" grep -qx 'Subject: \[e2e\] quarterly' <<<"$hs" || return 1
    must "not exactly one Subject" [ "$(grep -c '^Subject:' <<<"$hs")" -eq 1 ] || return 1
    must "X-E2E-Drop was not deleted" not grep -q '^X-E2E-Drop:' <<<"$hs" || return 1
    # The index counts Sendmail's own header list, its Received line included.
    local names; names=$(grep -v $'^\t' <<<"$hs" | cut -d: -f1 | head -4 | tr '\n' ' ')
    must "the first headers are '$names', expected 'X-E2E-First Received X-E2E-Third Date'" \
        [ "$names" = "X-E2E-First Received X-E2E-Third Date " ] || return 1
    # add of an existing name: Sendmail inserts the new one before it.
    must "the added X-E2E-Dup is not right before the original: $(grep '^X-E2E-Dup' <<<"$hs" | tr '\n' '|')" \
        [ "$(grep '^X-E2E-Dup:' <<<"$hs" | tr '\n' '|')" = "X-E2E-Dup: added|X-E2E-Dup: original|" ]
}
sm_test sm-eom-header-edits t_sm_header_edits

# change_envelope_from, delete_envelope_to, add_envelope_to: the queued envelope.
t_sm_envelope_edits() {
    sm_api_up || return 1
    sm_accepted --from rcpt@example.com --to bob@example.org || return 1
    must "the queued sender is not <new-from@example.com>: $(grep '^S' "$SM_QUEUE"/qf*)" qf_has '^S<new-from@example\.com>$' || return 1
    must "<bob-filtered@example.org> is not a queued recipient" qf_has '^R.*:<bob-filtered@example\.org>$' || return 1
    must "the deleted <bob@example.org> is still queued" not qf_has '^R.*:<bob@example\.org>$'
}
sm_test sm-eom-envelope-edits t_sm_envelope_edits

# replace_body: the queued body (df, LF line ends) is the new one, byte for byte.
t_sm_replace_body() {
    sm_api_up || return 1
    sm_accepted --from body@example.com --to bob@example.org --body "the original body" || return 1
    must "queued body is not the replacement: $(head -3 "$SM_QUEUE/df$(sm_queue)" | tr '\n' '|')" \
        cmp -s "$SM_QUEUE/df$(sm_queue)" <(printf 'replaced by pmilter\nsecond line\n')
}
sm_test sm-eom-replace-body t_sm_replace_body

# quarantine: 250 to the client; the queue file becomes hf, with a q line
# holding the reason; nothing waits in the normal queue; mailq -qQ lists it;
# sendmail -qQ -qI<id> -Q releases it.
t_sm_quarantine() {
    sm_api_up || return 1
    sm_mail --from hold@example.com --to bob@example.org
    must "expected 250 at end of DATA, got '$(pf_reply "$T/swaks.out" ".")'" reply_is 250 "." || return 1
    local id; id=$(sm_quarantined)
    must "no quarantined (hf) message in the queue: $(ls "$SM_QUEUE" | tr '\n' ' ')" [ -n "$id" ] || return 1
    must "the hf file has no 'qe2e: held for review' line" grep -qx 'qe2e: held for review' "$SM_QUEUE/hf$id" || return 1
    must "a normal qf file is queued too" [ -z "$(sm_queue)" ] || return 1
    must "mailq -qQ does not list $id with 'QUARANTINE: e2e: held for review'" \
        grep -qx '[[:space:]]*QUARANTINE: e2e: held for review' <(sm_cmd -bp -qQ | grep -A1 "^$id ") || return 1
    sm_cmd -qQ -qI"$id" -Q >/dev/null 2>&1
    must "sendmail -qQ -qI$id -Q did not release it to the normal queue: $(ls "$SM_QUEUE" | tr '\n' ' ')" \
        [ "$(sm_queue)" = "$id" ] || return 1
    must "the released qf file still has a q line" not qf_has '^q'
}
sm_test sm-eom-quarantine t_sm_quarantine
pm_stop sm-api

# A handler that raises at eom: 4xx, nothing queued, and the next mail passes.
t_sm_eom_raise() {
    pm_up "$(pm_conf sm-raise "$SM_SOCK" envfrom=noop.rb eom=eom_raise.rb)" || return 1
    sm_mail --from raise@example.com --to bob@example.org
    local want="451 4.3.2 Please try again later"
    must "expected '$want' at end of DATA, got '$(pf_reply_text "$T/swaks.out" ".")'" reply_text_is "$want" "." || return 1
    must "the failed message is queued" nothing_queued || return 1
    must "pmilter's log does not name the failing line (eom_raise.rb:4) and the error" \
        wait_for grep -qE 'eom_raise\.rb:4.*deliberate failure at eom' "$PM_ERR" || return 1
    sm_accepted --from alice@example.com --to bob@example.org || { why="the next mail: $why"; return 1; }
    must "the next mail was not filtered (no X-E2E-Survived header)" qf_has '^H\?\?X-E2E-Survived: yes$'
}
sm_test sm-eom-raise-tempfails t_sm_eom_raise
pm_stop sm-raise

# A body of over 200 kB (Sendmail sends it in chunks of at most 65535 bytes) and a
# folded header: the handler sees the whole body and the header's value with
# its LF line break; its upper-cased replacement is queued whole.
t_sm_big_body() {
    pm_up "$(pm_conf sm-body "$SM_SOCK" eom=sm_body.rb)" || return 1
    local i line="abcdefghij abcdefghij abcdefghij abcdefghij abcdefghij abcdefghij abcdefghi"
    for ((i = 0; i < 3000; i++)); do echo "$i $line"; done >"$T/body.txt"
    sm_accepted --from alice@example.com --to bob@example.org --body @"$T/body.txt" \
        --add-header "$(printf 'X-E2E-Folded: first part\r\n\tsecond part')" || return 1
    local df; df=$SM_QUEUE/df$(sm_queue)
    must "the eom handler printed nothing" wait_for grep -q '^eom: ' "$PM_OUT" || return 1
    # The handler's body has CRLF line ends, the df file LF: one byte per line more.
    local want="eom: body_size=$(($(wc -c <"$df") + $(wc -l <"$df"))) truncated=false folded=\"first part\\n\\tsecond part\""
    must "the handler printed '$(grep '^eom: ' "$PM_OUT")', expected '$want'" grep -qxF "$want" "$PM_OUT" || return 1
    must "the queued body does not start with the upper-cased original" \
        cmp -s <(head -c "$(wc -c <"$T/body.txt")" "$df") <(tr a-z A-Z <"$T/body.txt") || return 1
    must "the queued body has more than the original and empty lines: $(tail -c +"$(($(wc -c <"$T/body.txt") + 1))" "$df" | od -c | head -2)" \
        [ -z "$(tail -c +"$(($(wc -c <"$T/body.txt") + 1))" "$df" | tr -d '\n')" ]
}
sm_test sm-big-body-folded-header t_sm_big_body
pm_stop sm-body

# macros.envfrom replaces Sendmail's own list for MAIL FROM: {mail_addr},
# which Sendmail sends by default (sm-seed-flow), is empty unless listed.
t_sm_macros_replace() {
    local conf; conf=$(pm_conf sm-macros "$SM_SOCK" envfrom=sm_macros.rb)
    sed -i '/^\[server\]/a macros.envfrom = ["i"]' "$conf"
    pm_up "$conf" || return 1
    sm_accepted --from alice@example.com --to bob@example.org || return 1
    must "the envfrom handler printed nothing" wait_for grep -q '^envfrom: ' "$PM_OUT" || return 1
    must "expected an empty {mail_addr}, the handler printed '$(grep '^envfrom: ' "$PM_OUT")'" \
        grep -qx 'envfrom: mail_addr=' "$PM_OUT"
}
sm_test sm-macros-replace-list t_sm_macros_replace
pm_stop sm-macros

# A directory on the socket's path made group or world writable: Sendmail
# refuses the socket (F=T: 4xx) although pmilter listens; the socket's own
# mode (0777 here: pmilter started with umask 000) is not checked.
# refused_with DIR MODE: one mail with DIR at MODE, then DIR back at 0755.
refused_with() {
    local seen; seen=$(wc -l <"$SM_TRACE")
    chmod "$2" "$1"
    sm_mail --from alice@example.com --to bob@example.org
    chmod 0755 "$1"
    must "expected 4xx at MAIL FROM with $1 at mode $2, got '$(pf_reply "$T/swaks.out" "MAIL FROM")'" \
        reply_is '4[0-9][0-9]' "MAIL FROM" || return 1
    must "Sendmail's trace does not say the socket is unsafe" grep -q 'unsafe' <(tail -n +"$((seen + 1))" "$SM_TRACE") || return 1
    must "a message was queued" nothing_queued
}
t_sm_unsafe_socket_dir() {
    pm_up "$(pm_conf sm-unsafe "$SM_SOCK" eom=eom_listen.rb)" || return 1
    must "the socket is $(stat -c %a "$SM_SOCK"), expected 777" [ "$(stat -c %a "$SM_SOCK")" = 777 ] || return 1
    refused_with "$SM_SOCK_DIR" 0777 || return 1
    refused_with "$SM_SOCK_DIR" 0775 || return 1
    refused_with "$SM_RUN" 0775 || return 1
    sm_accepted --from alice@example.com --to bob@example.org || { why="with the directories 0755 again: $why"; return 1; }
    must "the mail was not filtered (no X-E2E-Listen header)" qf_has '^H\?\?X-E2E-Listen: seen$'
}
sm_test sm-unsafe-socket-dir-refused t_sm_unsafe_socket_dir
pm_stop sm-unsafe

# A socket under /tmp (world writable, even with the sticky bit): Sendmail
# refuses the .cf at start and does not run at all.
t_sm_socket_under_tmp() {
    local tmp_sock_dir out=$SM_RUN/mta-tmp/stdout
    tmp_sock_dir=$(mktemp -d /tmp/pmilter-sm.XXXXXX) && chmod 0755 "$tmp_sock_dir" || return 1
    on_exit "rm -rf '$tmp_sock_dir'"
    # shellcheck disable=SC2034  # read by sm_start and sm_stop
    local SM_DIR SM_PORT SM_QUEUE SM_TRACE SM_PID   # the main instance's stay as they are
    must "Sendmail started with its milter socket under /tmp" \
        not sm_start "$SM_RUN/mta-tmp" "$(pf_free_port)" "$tmp_sock_dir/pm.sock" 2>/dev/null || { sm_stop; return 1; }
    must "Sendmail did not name the reason: $(tail -1 "$out")" \
        grep -q "Xpmilter: local socket name $tmp_sock_dir/pm.sock unsafe: World writable directory" "$out"
}
sm_test sm-socket-under-tmp-refused t_sm_socket_under_tmp
sm_stop
