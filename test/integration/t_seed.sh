# The tutorial's flow with the bundled pmilter.conf and handler/ scripts.
new_site seed
sed -e "s|^\( *listen = \).*|\1\"$SOCK\"|" -e "s|\"handler/|\"$REPO/handler/|" pmilter.conf >"$CONF"
start_pmilter "$CONF" || fail "seed: start" "pmilter did not start"
mt "seed: a message passes and gets X-Pmilter: Enable" '
local conn, r = message({client_ip = "127.0.0.1", client_host = "localhost", helo = "client.example.net"})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
expect("X-Pmilter: Enable was not added", mt.eom_check(conn, MT_HDRADD, "X-Pmilter", "Enable"))
mt.disconnect(conn)'
out_has "seed: postconfig ran" "run at postconfig phase"
out_has "seed: connect prints the client address" "client_ipaddr: 127.0.0.1"
out_has "seed: connect prints the client host" "client_hostname: localhost"
out_has "seed: connect prints the daemon" "client_daemon: smtpd"
out_has "seed: connect prints the phase" "handler_phase_name: mruby_connect_handler"
out_has "seed: helo prints the HELO name" "helo hostname: client.example.net"
out_has "seed: helo prints absent TLS facts as empty" "tls_version: "
out_has "seed: envfrom prints MAIL FROM" "env from args: <from@example.com>"
out_has "seed: envfrom prints {mail_addr}" "env from symval: from@example.com"
out_has "seed: envrcpt prints RCPT TO" "env to arg: <to@example.com>"
out_has "seed: envrcpt prints {rcpt_addr}" "env to symval: to@example.com"
out_has "seed: header prints each header as a Hash" 'header: {"From"=>"Taro <taro@example.com>"}'
out_has "seed: header prints the second header" 'header: {"Subject"=>"Hello"}'
out_has "seed: body prints the chunk" "body chunk; Hello world!!"
out_has "seed: eom prints myhostname" "myhostname: mx.example.com"
out_has "seed: eom prints the queue id" "message_id: 4XyZ1"
# The eom handler prints `h['X-Pmilter'] = 'Enable'`, an assignment whose value
# is 'Enable' whatever pmilter does; what counts is the header the MTA is asked for.
if grep -qE '^reveive_time: [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [0-9]{4}$' "$PM_OUT"; then
    pass "seed: eom prints the receive time"; else fail "seed: eom prints the receive time" "$(grep reveive "$PM_OUT")"; fi

mt "seed: MAIL FROM <spam-from@example.com> is rejected" '
local conn, r = message({from = "<spam-from@example.com>"})
expect_reply("envfrom", r.envfrom, SMFIR_REJECT)
mt.disconnect(conn)'

mt "seed: eom changes <change-from@example.com> and adds <new-to@example.com>" '
local conn, r = message({from = "<change-from@example.com>", to = "<add-to@example.com>"})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
expect("recipient <new-to@example.com> not added", mt.eom_check(conn, MT_RCPTADD, "<new-to@example.com>"))
mt.disconnect(conn)'
out_has "seed: eom reports change_envelope_from" "change_envelope_from: <new-from@example.com>"
out_has "seed: eom reports add_envelope_to" "add_envelope_to: <new-to@example.com>"
# miltertest has no check for a changed sender: pmilter-client lists every
# modification the MTA is asked for, and nothing else.
printf 'From: Taro <change-from@example.com>\nTo: <add-to@example.com>\nSubject: Hello\n\nHello world!!\n' >"$D/seed.eml"
got=$("$REPO/${BUILD:-build/default}/pmilter-client" -s "unix:$SOCK" "$D/seed.eml" 2>&1 | sed -n 's/^  //p' | tr '\n' '|')
want="add header: X-Pmilter: Enable|change from: <new-from@example.com>|add rcpt: <new-to@example.com>|"
[ "$got" = "$want" ] && pass "seed: the MTA gets exactly the header, the new sender and the new recipient" ||
    fail "seed: the MTA gets exactly the header, the new sender and the new recipient" "got '$got', want '$want'"
log_has "seed: start-up notice in the original format" '^\[[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT\]\[notice\]: pmilter/[0-9.]+ starting$'
stop_clean "seed"
out_has "seed: master_exit ran at shutdown" "master exit at exit phase"
if [ ! -e "$SOCK" ]; then pass "seed: socket removed at exit"; else fail "seed: socket removed at exit" "$SOCK still there"; fi
