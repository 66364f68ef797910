# A private Sendmail 8.17 for the end-to-end tests. Source after test/lib.sh
# and test/e2e/postfix.sh (it uses pf_free_port, _pf_poll, _pf_alive).
# Debian's sendmail-bin conflicts with the postfix package, so nothing is
# installed: the .debs are downloaded once into a cache directory and unpacked
# there; m4, libwrap0 and liblockfile1 come from scripts/packages/e2e.txt.
# Each instance lives in one directory outside /tmp (Sendmail refuses a milter
# socket whose directory path is group or world writable, /tmp included): its
# .mc/.cf, queue, pid file and debug trace. Delivery is queue-only, so every
# accepted message stays in the queue as qf (envelope and headers) and df (body).
#
#   sm_install CACHE      download (unless cached) and unpack sendmail-bin,
#                         sendmail-base and sendmail-cf under CACHE; sets SM_ROOT
#   sm_start DIR PORT SOCKET
#                         build the instance in DIR (created, 0755) with the
#                         milter on unix SOCKET (F=T), start it on
#                         127.0.0.1:PORT with a qualified host name and wait
#                         for the port; sets SM_DIR, SM_PORT, SM_QUEUE,
#                         SM_TRACE; stopped on exit. Fails, with what
#                         Sendmail said on its stdout, if it does not listen
#   sm_stop               stop the instance and wait for it to exit
#   sm_send OUT ARGS...   swaks to the instance, transcript in OUT
#   sm_cmd ARGS...        the instance's sendmail binary and .cf with ARGS,
#                         e.g. sm_cmd -bp -qQ (mailq of the quarantine)
#   sm_queue              queue IDs of the messages in the queue (qf files)
#   sm_quarantined        queue IDs of quarantined messages (hf files)
#   sm_clear_queue        empty the queue (start of a test)
#   sm_headers ID         the headers of queued message ID as "Name: value"
#                         lines (qf "H??" lines, continuation lines kept)
# Environment: SM_DEBUG (Sendmail's -d flags for the trace file, default 64.5:
# the milter conversation; add 44.5 to see why a file or socket is unsafe).

SM_DEBS=(sendmail-bin sendmail-base sendmail-cf)
SM_HOST=mx.sm.test.example

# _sm_download DEBDIR: the three .debs into DEBDIR, all or nothing.
_sm_download() {
    local tmp
    if ! apt-cache policy sendmail-bin 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        apt-get update -qq || { echo "sm_install: apt-get update failed" >&2; return 1; }
    fi
    tmp=$(mktemp -d "$1.XXXXXX") || return 1
    # -o APT::Sandbox::User=root: _apt cannot write into a root-owned build dir.
    if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "${SM_DEBS[@]}" >/dev/null) ||
        [ "$(ls "$tmp"/*.deb 2>/dev/null | wc -l)" -ne 3 ]; then
        echo "sm_install: apt-get download ${SM_DEBS[*]} failed" >&2
        rm -rf "$tmp"
        return 1
    fi
    # Another run may have filled the cache meanwhile: keep its copy.
    mv -T "$tmp" "$1" 2>/dev/null || rm -rf "$tmp"
}

sm_install() {
    local cache=$1 deb
    mkdir -p "$cache" || return 1
    [ -d "$cache/debs" ] || _sm_download "$cache/debs" || return 1
    SM_ROOT=$cache/root
    if [ ! -d "$SM_ROOT" ]; then
        # Unpacked beside, then renamed: an interrupted run leaves no half tree.
        rm -rf "$SM_ROOT.new"
        for deb in "$cache"/debs/*.deb; do
            dpkg -x "$deb" "$SM_ROOT.new" || { echo "sm_install: dpkg -x $deb failed" >&2; return 1; }
        done
        # The binary is setgid (group mail): the loader would ignore
        # LD_LIBRARY_PATH, and nothing here needs the group.
        chmod g-s "$SM_ROOT.new/usr/libexec/sendmail/sendmail" && mv -T "$SM_ROOT.new" "$SM_ROOT" || return 1
    fi
    command -v m4 >/dev/null || { echo "sm_install: m4 is missing (scripts/packages/e2e.txt)" >&2; return 1; }
    if ldd "$SM_ROOT/usr/libexec/sendmail/sendmail" | grep 'not found' >&2; then
        echo "sm_install: libraries missing for sendmail (scripts/packages/e2e.txt)" >&2
        return 1
    fi
}

# _sm_mc DIR PORT SOCKET: the instance's sendmail.mc. Every file under DIR;
# no DNS (nocanonify, accept_unresolvable_domains, hosts from /etc/hosts); no
# ident lookup back to the client; load-average limits off, so a busy test
# machine does not make Sendmail queue or refuse; queue-only; only the MTA
# port on 127.0.0.1 (no_default_msa drops port 587 on all addresses); the
# milter with F=T (tempfail when it is unusable) and short timeouts.
_sm_mc() {
    cat <<EOF
divert(0)dnl
VERSIONID(\`pmilter e2e')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$SM_HOST')dnl
define(\`QUEUE_DIR', \`$1/queue')dnl
define(\`confPID_FILE', \`$1/sendmail.pid')dnl
define(\`STATUS_FILE', \`$1/statistics')dnl
define(\`ALIAS_FILE', \`$1/aliases')dnl
define(\`confSERVICE_SWITCH_FILE', \`$1/service.switch')dnl
define(\`confDELIVERY_MODE', \`queueonly')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confDELAY_LA', \`0')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Family=inet, Addr=127.0.0.1, Port=$2, Name=MTA')dnl
INPUT_MAIL_FILTER(\`pmilter', \`S=local:$3, F=T, T=C:5s;S:10s;R:10s;E:30s')dnl
MAILER(\`smtp')dnl
EOF
}

sm_start() {
    local dir=$1 port=$2 sock=$3 cf=$SM_ROOT/usr/share/sendmail/cf
    mkdir -p "$dir/queue" && chmod 0755 "$dir" && chmod 0700 "$dir/queue" || return 1
    SM_DIR=$dir SM_PORT=$port SM_QUEUE=$dir/queue SM_TRACE=$dir/trace.log
    # Host names from /etc/hosts only: no DNS in the test environment.
    printf 'hosts files\naliases files\n' >"$dir/service.switch"
    : >"$dir/aliases"
    _sm_mc "$dir" "$port" "$sock" >"$dir/sendmail.mc"
    m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$dir/sendmail.mc" >"$dir/sendmail.cf" || {
        echo "sm_start: m4 failed on $dir/sendmail.mc" >&2; return 1; }
    on_exit "sm_stop"
    # -bD: daemon in the foreground; -d: the trace file (-D), shown when a
    # test fails (there is no syslog here).
    _sm_argv
    "${SM_ARGV[@]}" -bD -D "$SM_TRACE" -d"${SM_DEBUG:-64.5}" >"$dir/stdout" 2>&1 &
    SM_PID=$!
    if ! _pf_poll _sm_up_or_dead "$port" || ! _pf_listening "$port"; then
        echo "sm_start: nothing listens on 127.0.0.1:$port; Sendmail said:" >&2
        cat "$dir/stdout" >&2
        return 1
    fi
}

# Listening on port $1, or exited (a .cf it refuses ends it at once).
_sm_up_or_dead() { _pf_listening "$1" || _sm_dead "$SM_PID"; }

# SM_ARGV: the command line up to the .cf. A host name without a dot makes
# Sendmail sleep at start (a retry of the name lookup), whatever
# confDOMAIN_NAME says: it runs in its own UTS namespace with a qualified one.
# Started in the background as a plain command (no function in between), $!
# is Sendmail's own pid.
_sm_argv() {
    SM_ARGV=(unshare --uts sh -c 'hostname "$1" && shift && exec "$@"'
        sm "$SM_HOST" "$SM_ROOT/usr/libexec/sendmail/sendmail" -C "$SM_DIR/sendmail.cf")
}
sm_cmd() { _sm_argv; "${SM_ARGV[@]}" "$@"; }

_sm_dead() { ! _pf_alive "$1"; }

sm_stop() {
    [ -n "${SM_PID:-}" ] || return 0
    kill -TERM "$SM_PID" 2>/dev/null
    if ! _pf_poll _sm_dead "$SM_PID"; then
        echo "sm_stop: sendmail $SM_PID did not stop; killing it" >&2
        kill -KILL "$SM_PID" 2>/dev/null
    fi
    wait "$SM_PID" 2>/dev/null
    SM_PID=
}

sm_send() {
    local out=$1; shift
    swaks --server "127.0.0.1:$SM_PORT" --timeout 60 "$@" >"$out" 2>&1
}

_sm_ids() { (cd "$SM_QUEUE" && ls "$1"* 2>/dev/null | cut -c3-); }
sm_queue() { _sm_ids qf; }
sm_quarantined() { _sm_ids hf; }
sm_clear_queue() { rm -f "$SM_QUEUE"/*; }

# A qf header line is "H??Name: value", followed by tab-indented continuation
# lines. "H?flags?" lines are templates that Sendmail fills in at delivery for
# mailers with those flags (the Return-Path of "H?P?"), not headers of the message.
sm_headers() {
    local f=$SM_QUEUE/qf$1
    [ -f "$f" ] || f=$SM_QUEUE/hf$1
    awk '/^H\?\?/ { print substr($0, 4); inh = 1; next }
         inh && /^\t/ { print; next }
         { inh = 0 }' "$f"
}
