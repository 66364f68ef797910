# [kv] keys: a bad value is one error naming file, line and key (exit 78);
# an unknown key is a warning.
# kv_conf NAME LINES...: a config whose [kv] table has LINES; prints its path.
kv_conf() {
    local d=$T/conf-$1; shift
    mkdir -p "$d"
    { echo '[server]'; echo "listen = \"$d/pm.sock\""; echo '[kv]'; printf '%s\n' "$@"; } >"$d/pmilter.conf"
    echo "$d/pmilter.conf"
}
# conf_says NAME WANT_STATUS REGEX CONF: pmilter -t on CONF.
conf_says() {
    local out st
    out=$("$PMILTER" -t -c "$4" 2>&1); st=$?
    if [ "$st" = "$2" ] && grep -qE -- "$3" <<<"$out"; then pass "$1"; else fail "$1" "status $st (want $2): $(head -2 <<<"$out" | tr '\n' ' ')"; fi
}
conf_says "kv config: an unknown backend is an error naming file:line and key" 78 \
    'pmilter.conf:4: kv.backend: "mongo": expected memory or redis' "$(kv_conf backend 'backend = "mongo"')"
conf_says "kv config: timeout_ms out of range is an error" 78 \
    'pmilter.conf:4: kv.timeout_ms: 0 is out of range' "$(kv_conf timeout 'timeout_ms = 0')"
conf_says "kv config: on_error takes a verdict" 78 \
    'kv.on_error: "later": expected tempfail' "$(kv_conf onerror 'on_error = "later"')"
conf_says "kv config: an unknown [kv] key is a warning, not an error" 0 \
    'pmilter.conf:4: kv.colour: unknown key, ignored' "$(kv_conf unknown 'colour = "blue"')"
conf_says "kv config: [kv] must be a table" 78 'kv: expected a table' "$(printf '[server]\nlisten = "x.sock"\n' >"$T/kvflat.conf"; echo 'kv = 1' | cat - "$T/kvflat.conf" >"$T/kvflat2.conf"; echo "$T/kvflat2.conf")"
