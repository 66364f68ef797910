# Shared helpers for the shell-driven suites (integration, e2e, ...).
# Source it; every server started through it is stopped on exit.
#   pass NAME / fail NAME WHY     report one test (test/run.sh counts these)
#   check NAME CMD...             pass if CMD succeeds, else fail
#   suite_exit                    exit 1 if any fail was reported (in any subshell), else 0
#   tmpdir                        a per-suite temp dir ($T), removed on exit
#   start_pmilter CONF [ARGS]     start $PMILTER -c CONF, wait until it listens (a stale
#                                 socket file left from before does not count); sets PM_PID,
#                                 PM_OUT (stdout file), PM_ERR (stderr file)
#   stop_pmilter                  SIGTERM and wait (fails loudly if it does not exit)
#   wait_for CMD...               retry CMD for up to 10 s
#   new_site NAME [LINE...]       a site dir with a socket and config ([server] gets LINEs): D, CONF, SOCK
#   handler PHASE RUBY            writes $D/handler/PHASE.rb and registers it in $CONF
#   unix_listening PATH           a socket bound at PATH is listening (not just created)

PMILTER=${PMILTER:-./pmilter}
PMILTER=$(cd "$(dirname "$PMILTER")" && pwd)/$(basename "$PMILTER")
_cleanup_cmds=()
on_exit() { _cleanup_cmds+=("$*"); }
_run_cleanup() { local i; for ((i=${#_cleanup_cmds[@]}-1; i>=0; i--)); do eval "${_cleanup_cmds[i]}" >/dev/null 2>&1; done; }
trap _run_cleanup EXIT

# Failures are also noted in a file, so that suite_exit sees those reported
# from subshells and command substitutions too.
_FAILURES=$(mktemp /tmp/pmilter-failures.XXXXXX)
on_exit "rm -f '$_FAILURES'"
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; echo "$1" >>"$_FAILURES"; }
suite_exit() { [ -s "$_FAILURES" ] && exit 1; exit 0; }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi; }

tmpdir() {
    T=$(mktemp -d /tmp/pmilter-test.XXXXXX)
    chmod 755 "$T"
    [ -n "${KEEP_TMP:-}" ] || on_exit "rm -rf '$T'"
}

wait_for() {
    local i
    for ((i = 0; i < 200; i++)); do "$@" && return 0; sleep 0.05; done
    return 1
}

# /proc/net/unix lists each socket with its flags; 00010000 is "accepting"
# (listen() was called), so this is false between bind() and listen().
unix_listening() { awk -v p="$1" '$4 == "00010000" && $8 == p { found = 1 } END { exit !found }' /proc/net/unix; }

# The socket path or inet spec a config listens on, read back from the file.
_listen_of() { sed -n 's/^[[:space:]]*listen[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' "$1" | head -1; }

# _listening SPEC CONF [SINCE]: something listens on SPEC (a relative unix path is taken from CONF's dir).
_listening() {
    case "$1" in
        inet:*@*) local port=${1#inet:}; port=${port%@*}; (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null ;;
        inet:*:*) (exec 3<>/dev/tcp/127.0.0.1/${1##*:}) 2>/dev/null ;;
        inet6:*) local port=${1#inet6:}; port=${port%@*}; ss -ltn | grep -q "\]:$port " ;;
        # Connect: a stale socket file is no listener (slow starts, e.g. under TSan, raced past it).
        # SINCE (optional): and it was made after the start, not left from before.
        *) local p=${1#unix:}; p=${p#local:}; case "$p" in /*) ;; *) p=$(dirname "$2")/$p;; esac
           [ -S "$p" ] && { [ -z "${3:-}" ] || [ "$p" -nt "$3" ]; } &&
               python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$p" 2>/dev/null ;;
    esac
}
# _serving PID SPEC CONF SINCE: the process is alive and listening on SPEC.
_serving() { kill -0 "$1" 2>/dev/null && _listening "$2" "$3" "$4"; }

start_pmilter() {
    local conf=$1; shift
    PM_OUT=$(mktemp "${T:-/tmp}/pm-out.XXXXXX"); PM_ERR=$(mktemp "${T:-/tmp}/pm-err.XXXXXX")
    local since; since=$(mktemp "${T:-/tmp}/pm-start.XXXXXX")  # a socket older than this is stale
    "$PMILTER" -c "$conf" "$@" >"$PM_OUT" 2>"$PM_ERR" &
    PM_PID=$!
    on_exit "kill -9 $PM_PID"
    local spec; spec=$(_listen_of "$conf")
    if ! wait_for _serving "$PM_PID" "$spec" "$conf" "$since"; then
        echo "pmilter did not start listening on $spec; stderr:" >&2; cat "$PM_ERR" >&2
        return 1
    fi
}

stop_pmilter() {
    [ -n "${PM_PID:-}" ] || return 0
    kill -TERM "$PM_PID" 2>/dev/null
    local i
    for ((i = 0; i < 200; i++)); do kill -0 "$PM_PID" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$PM_PID" 2>/dev/null; then echo "pmilter $PM_PID ignored SIGTERM for 10 s" >&2; kill -9 "$PM_PID"; fi
    wait "$PM_PID" 2>/dev/null
    PM_STATUS=$?
    PM_PID=
    return 0
}

# Fails NAME if the pmilter stderr file shows a sanitizer report or a crash.
check_sanitizer_clean() {
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "${2:-$PM_ERR}"; then
        fail "$1" "sanitizer report in pmilter stderr: $(grep -m1 -E 'ERROR|WARNING: ThreadSanitizer|runtime error' "${2:-$PM_ERR}")"
    else
        pass "$1"
    fi
}

# new_site NAME: a directory with its own socket, handlers/ and a config whose
# [server] section gets the remaining arguments as lines. Sets D, CONF, SOCK.
new_site() {
    D=$T/$1; shift
    mkdir -p "$D/handler"
    SOCK=$D/pm.sock
    CONF=$D/pmilter.conf
    { echo '[server]'; echo "listen = \"$SOCK\""; echo 'log_level = "info"'; printf '%s\n' "$@"; } >"$CONF"
}
# handler PHASE 'ruby code': writes handler/PHASE.rb and registers it.
handler() {
    printf '%s\n' "$2" >"$D/handler/$1.rb"
    grep -q '^\[handler.session\]' "$CONF" || printf '\n[handler.session]\n' >>"$CONF"
    sed -i "/^\[handler.session\]/a mruby_$1_handler = \"handler/$1.rb\"" "$CONF"
}
