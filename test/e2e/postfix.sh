# A private Postfix instance for the end-to-end tests. Source after test/lib.sh.
# Nothing here reads or writes /etc/postfix or the system queue: each instance
# lives in its own directory (config, queue, data, maildir, log) and listens on
# a loopback port. Every recipient of every domain is delivered by virtual(8)
# into one maildir, one file per message and recipient.
#
#   pf_start DIR PORT MILTER_SPEC [NAME=VALUE ...]
#                         build the instance in DIR (created), extra main.cf
#                         settings last, start it and wait for its SMTP port;
#                         sets PF_DIR, PF_PORT, PF_LOG, PF_MAIL; stopped on exit
#   pf_stop [DIR]         stop the instance (default: the last started one) and
#                         wait for its master and children to exit
#   pf_free_port          print a loopback TCP port nobody listens on
#   pf_send OUT ARGS...   swaks to the instance, transcript in OUT, swaks' exit status
#   pf_reply OUT CMD      the reply code swaks got to the first command starting
#                         with CMD ("MAIL FROM", "RCPT TO", "." for end of data, ...)
#   pf_reply_text OUT CMD the whole reply line(s) to that command, e.g.
#                         "550 5.7.1 text" (a multi-line reply: one line each)
#   pf_delivered [--wait N]   list delivered message files; with --wait, first
#                         wait (deadline $PF_WAIT s) until there are at least N
#   pf_clear_mail         forget delivered messages (start of a test)
#   pf_log [--wait] REGEX print the log lines matching REGEX (grep -E); with
#                         --wait, wait for one first; fails if none
#   pf_queue              queue IDs still in any queue (incoming, active, deferred, hold)
#   pf_queue_hold         queue IDs in the hold queue
#   pf_tls_sasl DIR USER PASS
#                         a self-signed certificate and a Cyrus sasldb with one
#                         user (realm test.example) under DIR; prints the
#                         NAME=VALUE settings for pf_start (STARTTLS offered,
#                         AUTH PLAIN/LOGIN, TLS handshakes logged)
#   pf_install LIST       install the missing Debian packages of LIST; if that
#                         started a system Postfix, stop it again

PF_WAIT=${PF_WAIT:-20}

# Retry CMD every 0.05 s until it succeeds or $PF_WAIT seconds have passed.
_pf_poll() {
    local end=$((SECONDS + PF_WAIT))
    while :; do
        "$@" && return 0
        [ $SECONDS -ge $end ] && return 1
        sleep 0.05
    done
}

# True if something listens on TCP port $1 of 127.0.0.1 or any address
# (read from /proc: a probe connection would show up in the Postfix log).
_pf_listening() {
    local hex
    printf -v hex '%04X' "$1"
    grep -qE "^ *[0-9]+: (0100007F|00000000):$hex [0-9A-F]+:[0-9A-F]+ 0A " /proc/net/tcp
}

pf_free_port() {
    local p i
    for ((i = 0; i < 100; i++)); do
        p=$((20000 + RANDOM % 40000))
        _pf_listening "$p" || { echo "$p"; return 0; }
    done
    return 1
}

# State and process group of PID from /proc (the field after the
# parenthesised command name, which may itself hold spaces).
_pf_stat() {
    local stat
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    read -r _pf_state _ _pf_pgrp _ <<<"${stat##*) }"
}

# True while PID exists and is not a zombie (the master's parent is init,
# which may reap it late; kill -0 would still succeed then).
_pf_alive() { _pf_stat "$1" && [ "$_pf_state" != Z ]; }

# True when the master PID and every live process of its group (the master
# is a session leader; its children stay in its group) are gone.
_pf_gone() {
    local f pid
    _pf_alive "$1" && return 1
    for f in /proc/[0-9]*; do
        pid=${f#/proc/}
        _pf_stat "$pid" && [ "$_pf_state" != Z ] && [ "$_pf_pgrp" = "$1" ] && return 1
    done
    return 0
}

pf_start() {
    local dir=$1 port=$2 milter=$3; shift 3
    local uid gid
    uid=$(id -u postfix) && gid=$(id -g postfix) || { echo "pf_start: no postfix user" >&2; return 1; }
    mkdir -p "$dir/etc" "$dir/spool" "$dir/data" "$dir/mail" || return 1
    chown postfix:postfix "$dir/data" "$dir/mail"
    chmod 755 "$dir"
    PF_DIR=$dir PF_PORT=$port PF_LOG=$dir/maillog PF_MAIL=$dir/mail/catchall
    cat >"$dir/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
myhostname = mx.test.example
mydomain = test.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
smtp_host_lookup = native
smtp_dns_support_level = disabled
smtpd_error_sleep_time = 0s
in_flow_delay = 0s
biff = no
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = static:all
virtual_mailbox_maps = static:catchall/
virtual_mailbox_base = $dir/mail
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
EOF
    local kv
    for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}" >>"$dir/etc/main.cf"; done
    # Only what mail needs; no chroot (the milter socket path is the host's).
    cat >"$dir/etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
    # postfix start reports errors only to a terminal (the log does not exist
    # before postlogd runs): give it one so they reach our stderr.
    # Cleanup is registered first: an interrupt during start still stops it.
    on_exit "pf_stop '$dir'"
    local out
    out=$(script -qec "postfix -c '$dir/etc' start" /dev/null 2>&1)
    if [ $? -ne 0 ] || [ -z "$(_pf_master_of "$dir/spool")" ]; then
        echo "pf_start: postfix did not start: $out" >&2
        return 1
    fi
    if ! _pf_poll _pf_listening "$port"; then
        echo "pf_start: nothing listens on 127.0.0.1:$port; log:" >&2
        cat "$PF_LOG" >&2
        return 1
    fi
}

# The pid of the running master of queue directory $1, if any: the pid file
# may be stale, so the process must be a master working in that directory.
_pf_master_of() {
    local pid
    pid=$(tr -dc 0-9 2>/dev/null <"$1/pid/master.pid")
    [ -n "$pid" ] && _pf_alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = master ] &&
        [ "$(readlink "/proc/$pid/cwd")" = "$1" ] && echo "$pid"
}

pf_stop() {
    local pid
    pid=$(_pf_master_of "${1:-$PF_DIR}/spool")
    [ -n "$pid" ] || return 0
    # SIGTERM is what "postfix stop" sends; the master passes it to its
    # process group. "postfix stop" itself polls with 1 s sleeps.
    kill -TERM "$pid" 2>/dev/null
    _pf_poll _pf_gone "$pid" && return 0
    echo "pf_stop: postfix master $pid did not stop; killing its group" >&2
    kill -KILL -- "-$pid" 2>/dev/null
    return 1
}

pf_send() {
    local out=$1; shift
    swaks --server "127.0.0.1:$PF_PORT" --timeout 60 "$@" >"$out" 2>&1
}

# swaks marks what it sends with "->" (or "~>" inside TLS) and what it
# reads with "<-" ("<~" inside TLS; "<**"/"<~*" for an unexpected reply).
pf_reply() {
    awk -v cmd="$2" '
        !sent && /^ *[-~]> / { line = $0; sub(/^ *[-~]> /, "", line)
                               if (index(line, cmd) == 1) sent = 1; next }
        sent && /^ *<[-~*]/ { line = $0; sub(/^ *<[-~*]+ */, "", line)
                              print substr(line, 1, 3); exit }' "$1"
}

pf_reply_text() {
    awk -v cmd="$2" '
        !sent && /^ *[-~]> / { line = $0; sub(/^ *[-~]> /, "", line)
                               if (index(line, cmd) == 1) sent = 1; next }
        sent && /^ *<[-~*]/ { line = $0; sub(/^ *<[-~*]+ */, "", line); print line
                              if (substr(line, 4, 1) != "-") exit; next }
        sent { exit }' "$1"
}

_pf_count_ge() { [ "$(ls "$PF_MAIL/new" 2>/dev/null | wc -l)" -ge "$1" ]; }

pf_delivered() {
    local want=0
    if [ "$1" = --wait ]; then want=$2; shift 2; fi
    _pf_poll _pf_count_ge "$want" || return 1
    ls -d "$PF_MAIL"/new/* 2>/dev/null
    return 0
}

pf_clear_mail() { rm -f "$PF_MAIL"/new/* "$PF_MAIL"/cur/* "$PF_MAIL"/tmp/*; }

pf_log() {
    if [ "$1" = --wait ]; then
        shift
        _pf_poll grep -qE -- "$1" "$PF_LOG" 2>/dev/null || return 1
    fi
    grep -E -- "$1" "$PF_LOG" 2>/dev/null
}

_pf_queue_ids() { (cd "$PF_DIR/spool" && find "$@" -type f -printf '%f\n' 2>/dev/null); }
pf_queue() { _pf_queue_ids incoming active deferred hold; }
pf_queue_hold() { _pf_queue_ids hold; }

pf_tls_sasl() {
    local dir=$1 user=$2 pass=$3
    # Cyrus ignored smtpd.conf in a directory beside etc/ (it fell back to
    # /etc/sasldb2 and every mechanism); under the instance's etc/ it reads it.
    mkdir -p "$dir/tls" "$dir/etc/sasl" || return 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.test.example \
        -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" >/dev/null 2>&1 || return 1
    cat >"$dir/etc/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $dir/etc/sasl/sasldb2
EOF
    echo "$pass" | saslpasswd2 -p -c -f "$dir/etc/sasl/sasldb2" -u test.example "$user" || return 1
    # smtpd runs as postfix and reads the key and the sasldb.
    chgrp postfix "$dir/tls/key.pem" "$dir/etc/sasl/sasldb2" && chmod 640 "$dir/tls/key.pem" "$dir/etc/sasl/sasldb2" || return 1
    printf '%s\n' smtpd_tls_security_level=may "smtpd_tls_cert_file=$dir/tls/cert.pem" \
        "smtpd_tls_key_file=$dir/tls/key.pem" smtpd_tls_loglevel=1 \
        smtpd_sasl_auth_enable=yes smtpd_sasl_type=cyrus smtpd_sasl_path=smtpd \
        "cyrus_sasl_config_path=$dir/etc/sasl" smtpd_sasl_local_domain=test.example
}

_pf_system_master() { _pf_master_of "$(postconf -h queue_directory 2>/dev/null || echo /var/spool/postfix)"; }
_pf_dead() { ! _pf_alive "$1"; }

pf_install() {
    local before after
    before=$(_pf_system_master)
    "$(dirname "${BASH_SOURCE[0]}")/../../scripts/deps.sh" "$1" || return 1
    after=$(_pf_system_master)
    # A postinst that started the system Postfix: stop it. One that ran before
    # us is not ours to touch (our instance shares no port or directory with it).
    if [ -z "$before" ] && [ -n "$after" ]; then
        echo "pf_install: the package install started the system Postfix ($after); stopping it" >&2
        postfix stop >/dev/null 2>&1 || kill -TERM "$after"
        _pf_poll _pf_dead "$after"
    fi
    command -v postfix >/dev/null && command -v swaks >/dev/null && command -v saslpasswd2 >/dev/null
}
