# The command line as an operator uses it: -t, -v, -h, exit 78 with one
# error line naming file, line and key; sockets (stale, taken, inet).

cli "cli: -v prints pmilter, mruby and libmilter versions" 0 '^pmilter/[0-9]+\.[0-9]+\.[0-9]+ \(mruby 3\.1\.[0-9]+, libmilter [0-9.]+\)$' -v
cli "cli: -h prints usage" 0 '^usage: pmilter \[-c FILE\]' -h
cli "cli: an unknown option is a usage error" 64 'usage: pmilter' -x
cli "cli: the bundled pmilter.conf passes -t" 0 '\[notice\]: configuration pmilter.conf and its handlers are ok' -t -c pmilter.conf
cli "cli: a missing config file" 78 'nope.conf: cannot open: No such file or directory' -t -c "$T/nope.conf"

new_site bad_type 'timeout = "ten"'
cli "cli: a wrong type names file:line:key and exits 78" 78 "\[error\]: $CONF:4: server.timeout: expected integer, got string$" -t -c "$CONF"
new_site bad_listen 'listen_backlog = 8'
sed -i "s|^listen = .*|listen = \"inet:99999@127.0.0.1\"|" "$CONF"
cli "cli: a malformed listen exits 78" 78 "$CONF:2: server.listen: \"inet:99999@127.0.0.1\": expected inet:PORT@HOST" -t -c "$CONF"
new_site bad_toml 'timeout = = 3'
cli "cli: a TOML syntax error names line and column" 78 "$CONF:4:[0-9]+: " -t -c "$CONF"
new_site typo 'timout = 30'
cli "cli: an unknown key is a warning naming it, not an error" 0 "\[warn\]: $CONF:4: server.timout: unknown key, ignored" -t -c "$CONF"
new_site missing_handler
printf '[handler.session]\nmruby_eom_handler = "handler/none.rb"\n' >>"$CONF"
cli "cli: an unreadable handler names the key and exits 78" 78 "$CONF:6: handler.session.mruby_eom_handler: cannot read handler $D/handler/none.rb: No such file or directory" -t -c "$CONF"
new_site syntax
handler eom 'puts "ok"
if true
  puts "never closed"'
cli "cli: a Ruby syntax error in a handler names file:line, exit 78" 78 "$D/handler/eom.rb:[34]: syntax error" -t -c "$CONF"
new_site syntax_start
handler helo 'def broken('
"$PMILTER" -c "$CONF" >"$D/out" 2>&1; st=$?
if [ "$st" = 78 ] && [ ! -e "$SOCK" ] && grep -qE "handler/helo.rb:[12]: syntax error" "$D/out"; then pass "cli: a syntax error stops start-up before listening"
else fail "cli: a syntax error stops start-up before listening" "status $st: $(cat "$D/out")"; fi
new_site postconfig_raise
printf '[handler.config]\nmruby_postconfig_handler = "handler/pc.rb"\n' >>"$CONF"
printf 'raise "no database"\n' >"$D/handler/pc.rb"
"$PMILTER" -c "$CONF" >"$D/out" 2>&1; st=$?
if [ "$st" = 78 ] && grep -q "handler/pc.rb:1: no database (RuntimeError) (phase postconfig)" "$D/out"; then pass "cli: a raising postconfig handler stops start-up"
else fail "cli: a raising postconfig handler stops start-up" "status $st: $(cat "$D/out")"; fi

# Configurations written for the original pmilter load unchanged.
new_site original
mkdir -p "$D/handler"
for f in example.rb example_helo.rb example_envelope.rb example_header.rb example_eom.rb mail_from.rb rcpt_to.rb body.rb; do
    echo 'puts Pmilter::Session.new.handler_phase_name' >"$D/handler/$f"
done
cat >"$D/old1.conf" <<'CONF'
title = "pmilter configuration"

[server]
# hoge.sock or ipaddree:port
name = "pmilter"
listen = "hoge.sock"
workers = 8
backlog = 32
timeout = 10
log_level = "debug"
mruby_handler = true

[handler]
mruby_connect_handler = "handler/example.rb"
mruby_helo_handler = "handler/example_helo.rb"
mruby_envfrom_handler = "handler/example_envelope.rb"
mruby_envrcpt_handler = "handler/example_envelope.rb"
mruby_header_handler = "handler/example_header.rb"
mruby_eom_handler = "handler/example_eom.rb"
CONF
cli "cli: the original's first pmilter.conf loads unchanged" 0 'configuration .*old1.conf and its handlers are ok' -t -c "$D/old1.conf"
cat >"$D/old2.conf" <<'CONF'
[server]
# hoge.sock or ipaddree:port
#listen = "/var/spool/postfix/pmilter/pmilter.sock"
listen = "pmilter.sock"
timeout = 7210
log_level = "notice"
mruby_handler = true
listen_backlog = 128
debug = 0

[handler]
mruby_connect_handler = "handler/example.rb"
mruby_helo_handler = "handler/example_helo.rb"
mruby_envfrom_handler = "handler/mail_from.rb"
mruby_envrcpt_handler = "handler/rcpt_to.rb"
mruby_header_handler = "handler/example_header.rb"
#mruby_eoh_handler = "/path/to/handler.rb"
mruby_body_handler = "handler/body.rb"
mruby_eom_handler = "handler/example_eom.rb"
CONF
cli "cli: the original README's pmilter.conf loads unchanged" 0 'configuration .*old2.conf and its handlers are ok' -t -c "$D/old2.conf"

# Sockets: a stale one is replaced, a live one is not stolen.
new_site sockets
handler eom 'x = 1'
python3 - "$SOCK" <<'PY' 2>/dev/null || { rm -f "$SOCK"; mkfifo "$SOCK.tmp"; rm -f "$SOCK.tmp"; }
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])  # bound, never listened on, then closed: stale
PY
if [ -S "$SOCK" ]; then
    start_pmilter "$CONF" && pass "sockets: a stale socket file is replaced at start" || fail "sockets: a stale socket file is replaced at start" "$(cat "$PM_ERR")"
else
    fail "sockets: a stale socket file is replaced at start" "could not create a stale socket (python3 missing?)"
    start_pmilter "$CONF"
fi
cli "sockets: a socket another pmilter listens on is an error" 1 "another process is already listening on $SOCK" -c "$CONF"
[ -S "$SOCK" ] && pass "sockets: the live socket is left alone" || fail "sockets: the live socket is left alone" "it was removed"
stop_clean "sockets"
new_site notsock
echo data >"$SOCK"
cli "sockets: a regular file at the socket path is not removed" 1 "$SOCK exists and is not a socket" -c "$CONF"

# inet listen forms serve real milter sessions (with TCP_NODELAY on the listener).
port=$((20000 + RANDOM % 20000))
for spec in "inet:$port@127.0.0.1" "inet:127.0.0.1:$((port + 1))" "inet6:$((port + 2))@::1"; do
    new_site "inet$RANDOM"
    sed -i "s|^listen = .*|listen = \"$spec\"|" "$CONF"
    handler envfrom 'Pmilter.status = Pmilter::SMFIS_REJECT if Pmilter::Session.new.envelope_from == "<no@x>"'
    start_pmilter "$CONF" || fail "inet: $spec starts" "$(cat "$PM_ERR")"
    # miltertest cannot reach inet6 listeners; the wire-level client can.
    spec_for_client=$spec
    case $spec in inet:127.0.0.1:*) spec_for_client="inet:${spec##*:}@127.0.0.1" ;; esac
    got=$(python3 test/integration/rawclient.py "$spec_for_client" "neg;conn4:c.example:192.0.2.1;mail:<no@x>;quit" 2>&1)
    if [ "$(tail -1 <<<"$got")" = "r " ]; then pass "inet: listen = \"$spec\" serves a milter session"
    else fail "inet: listen = \"$spec\" serves a milter session" "$(tr '\n' ' ' <<<"$got")"; fi
    stop_clean "inet $spec"
done
