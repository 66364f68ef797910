#!/bin/bash
# Session#mime (src/mime, src/ruby/mrb_mime.c) through a real pmilter and
# pmilter-client: every message of test/mime/corpus is played once; the eom
# handler (test/mime/handler.rb) prints the facts of every part, and they
# must equal what Python's email package (policy=default) finds in the same
# file (test/mime/facts.py, run now). Then the API's edges: PhaseError,
# limits, decode_header, subject, a handler error. t_*.sh hold those.
# checks: 120  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
. test/lib.sh
trap _run_cleanup EXIT
# GLib's slab allocator hides a GMime object used after free from ASan (docs/mime.md).
export G_SLICE=always-malloc
CLIENT=${CLIENT:-./pmilter-client}
for tool in python3 "$CLIENT"; do
    command -v "$tool" >/dev/null || { fail "mime" "$tool not found (scripts/deps.sh, make test-build)"; exit 1; }
done
tmpdir

# mime_site NAME [config line ...]: a site whose eom handler is handler.rb
# (test/mime/handler.rb unless $HANDLER names another file).
mime_site() {
    D=$T/$1; shift
    mkdir -p "$D/handler"
    cp "${HANDLER:-test/mime/handler.rb}" "$D/handler/eom.rb"
    SOCK=$D/pm.sock CONF=$D/pmilter.conf
    { echo '[server]'; echo "listen = \"$SOCK\""; echo 'log_level = "info"'; echo 'max_body_size = 4000000'
      printf '%s\n' "$@"
      echo '[handler.session]'; echo 'mruby_eom_handler = "handler/eom.rb"'; } >"$CONF"
}
# play MAIL [CLIENT ARGS]: sends it; the lines the handler printed meanwhile go to $NEW,
# the client's exit status to $PLAY_STATUS.
play() {
    local before; before=$(wc -l <"$PM_OUT")
    "$CLIENT" -s "unix:$SOCK" "$@" >"$T/client.out" 2>&1; PLAY_STATUS=$?
    NEW=$T/new.out
    tail -n +"$((before + 1))" "$PM_OUT" | tr -d '\r' >"$NEW"
}
out_has() { if tr -d '\r' <"$PM_OUT" | grep -qxF -- "$2"; then pass "$1"; else fail "$1" "stdout lacks '$2': $(tail -3 "$PM_OUT" | tr '\n' ' ')"; fi; }
log_has() { if grep -qE -- "$2" "$PM_ERR"; then pass "$1"; else fail "$1" "log lacks /$2/: $(tail -2 "$PM_ERR" | tr '\n' ' ')"; fi; }

for t in test/mime/t_*.sh; do
    (_cleanup_cmds=(); trap _run_cleanup EXIT; . "$t")
done
suite_exit
