# A real DNS server for the DNS tests: Debian's unbound answering a test zone
# from local-data on a free loopback port. Source after test/lib.sh and tmpdir.
#   start_dns_server    sets DNS_PORT, DNS_LOG; stopped on exit
#   dns_queries NAME TYPE   how many queries for NAME/TYPE reached the server
# DNS_EXTRA=FILE adds that file's lines to the server: section (more local-data).
# Zone: DNSBL zones bl0..bl9.example listing 127.0.0.2 (answer 127.0.0.2) and
# 2001:2::1 (IPv6 nibbles), bl0 also 127.0.0.3 with the "public resolver"
# answer 127.255.255.254; PTR/A pairs that match (198.18.0.1 <-> good.example,
# 2001:2::25 <-> good6.example) and one that does not (198.18.0.2 ->
# liar.example -> 198.18.0.99); MX and TXT records; servfail.example (refused by
# the server: the resolver answers SERVFAIL at once) and timeout.example
# (its server is a UDP port bound by nobody who reads it: no answer ever).

_free_udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

_bl_data() {
    local z=$1
    echo "    local-data: \"2.0.0.127.$z. A 127.0.0.2\""
    echo "    local-data: '2.0.0.127.$z. TXT \"listed by $z\"'"
    echo "    local-data: \"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.$z. A 127.0.0.4\""
    echo "    local-data: \"spam.example.com.$z. A 127.0.0.2\""
}

start_dns_server() {
    local d=$T/dns
    mkdir -p "$d"
    DNS_PORT=$(_free_udp_port)
    DNS_LOG=$d/unbound.log
    # The silent server for timeout.example: bound, never read.
    python3 -c 'import socket,time,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1], flush=True); time.sleep(3600)' >"$d/silent.port" &
    local silent_pid=$!
    on_exit "kill $silent_pid"
    wait_for test -s "$d/silent.port"
    local silent_port
    silent_port=$(cat "$d/silent.port")
    {
        cat <<CONF
server:
    interface: 127.0.0.1
    port: $DNS_PORT
    do-ip6: no
    do-tcp: yes
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$d"
    pidfile: "$d/unbound.pid"
    use-syslog: no
    logfile: "$DNS_LOG"
    log-queries: yes
    verbosity: 0
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    do-not-query-localhost: no
    # Everything else is refused at once (no network here): SERVFAIL for the resolver.
    local-zone: "." refuse
    local-zone: "example." static
    local-data: "example. SOA ns.example. admin.example. 1 3600 600 86400 60"
    local-data: "good.example. A 198.18.0.1"
    local-data: "good6.example. AAAA 2001:2::25"
    local-data: "liar.example. A 198.18.0.99"
    local-data: "two.example. A 198.18.0.7"
    local-data: "two.example. A 198.18.0.8"
    local-data: "mail.example. MX 20 mx2.example."
    local-data: "mail.example. MX 10 mx1.example."
    local-data: 'mail.example. TXT "v=spf1 " "-all"'
    local-data: 'mail.example. TXT "second record"'

    local-data: "mx1.example. A 198.18.0.10"
    local-data: "cached.example. A 198.18.0.77"
    local-data: "reload.example. A 198.18.0.78"
    local-data: 'nodata.example. TXT "only text here"'
    local-zone: "18.198.in-addr.arpa." static
    local-data: "1.0.18.198.in-addr.arpa. PTR good.example."
    local-data: "2.0.18.198.in-addr.arpa. PTR liar.example."
    local-zone: "2.0.0.0.1.0.0.2.ip6.arpa." static
    local-data: "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa. PTR good6.example."
    local-zone: "servfail.example." refuse
    local-zone: "timeout.example." transparent
CONF
        for i in 0 1 2 3 4 5 6 7 8 9; do _bl_data bl$i.example; done
        echo '    local-data: "3.0.0.127.bl0.example. A 127.255.255.254"'
        echo '    local-data: "1.0.0.127.bl9.example. A 127.0.0.2"' # the e2e client (test/e2e/t_dns.sh)
        [ -n "${DNS_EXTRA:-}" ] && cat "$DNS_EXTRA" # more server: lines from a suite (test/auth)
        cat <<CONF
forward-zone:
    name: "timeout.example."
    forward-addr: 127.0.0.1@$silent_port
CONF
    } >"$d/unbound.conf"
    unbound -d -c "$d/unbound.conf" >"$d/stderr" 2>&1 &
    DNS_PID=$!
    on_exit "kill $DNS_PID"
    # Up when it answers: the log names each query once it serves.
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q "start of service" "$DNS_LOG" 2>/dev/null && return 0
        kill -0 $DNS_PID 2>/dev/null || break
        sleep 0.1
    done
    echo "test DNS server did not start: $(cat "$d/stderr" "$DNS_LOG" 2>/dev/null | tail -3)" >&2
    return 1
}

# start_delay_relay MS: a relay in front of the server that delays each answer; sets RELAY_PORT.
start_delay_relay() {
    python3 test/dns/delay_relay.py "$DNS_PORT" "$1" >"$T/dns/relay.port" &
    on_exit "kill $!"
    wait_for test -s "$T/dns/relay.port"
    RELAY_PORT=$(cat "$T/dns/relay.port")
}

dns_queries() { grep -c "info: 127.0.0.1 $1\. $2 IN" "$DNS_LOG"; }
