# A handler rewritten in place (truncate, then write) while pmilter reloads
# (docs/security.md, "Changing handlers"): for a moment the file is empty or
# cut short, both valid Ruby that filters nothing. pmilter refuses an empty
# handler file and one that changed while it was read; the running
# configuration stays, so no message passes unfiltered.
new_site rewrite
handler envfrom 'Pmilter::Session.new.reject!("filtered")'
start_pmilter "$CONF" || fail "rewrite: start" "$(cat "$PM_ERR")"
: >"$D/handler/envfrom.rb"
kill -USR1 "$PM_PID"
wait_for grep -q "reload failed, the running configuration stays: $D/handler/envfrom.rb: is empty; not loaded" "$PM_ERR" &&
    pass "rewrite: a reload refuses an empty handler file" ||
    fail "rewrite: a reload refuses an empty handler file" "$(tail -2 "$PM_ERR" | tr '\n' ' ')"
mt "rewrite: after it the previous handler still filters" '
local conn, r = message({from = "<a@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_REPLYCODE)
mt.disconnect(conn)'

# Renaming a new file into place is the safe way (and restores the handler).
printf 'Pmilter::Session.new.reject!("filtered")\n' >"$D/handler/envfrom.rb.new"
mv "$D/handler/envfrom.rb.new" "$D/handler/envfrom.rb"
reloads() { grep -c 'reloaded .*new sessions use it' "$PM_ERR"; }
before=$(reloads)
kill -USR1 "$PM_PID"
more_reloads() { [ "$(reloads)" -gt "$before" ]; }
wait_for more_reloads &&
    pass "rewrite: a handler renamed into place reloads" || fail "rewrite: a handler renamed into place reloads" "$(tail -2 "$PM_ERR" | tr '\n' ' ')"

# The race itself, bounded to 3 s: a writer rewrites a 64 KiB handler in
# place (its verdict is the last line, so any cut-short copy lets mail
# through), SIGUSR1 arrives every 50 ms, and a client sends message after
# message. Every one must be rejected.
python3 - "$D/handler/envfrom.rb" <<'PY' &
import os, sys, time
text = ("# padding line to make the handler long enough to be caught half-written\n" * 900 +
        'Pmilter::Session.new.reject!("filtered")\n').encode()
end = time.time() + 3
while time.time() < end:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
    os.write(fd, text)
    os.close(fd)
PY
writer=$!
on_exit "kill $writer"
( end=$((SECONDS + 3)); while [ $SECONDS -lt $end ]; do kill -USR1 "$PM_PID"; sleep 0.05; done ) &
reloader=$!
got=$(cd test/integration && python3 - "$SOCK" <<'PY'
import socket, struct, sys, time
from rawclient import frame, reply
sent = passed = 0
end = time.time() + 3
while time.time() < end:
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
    s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff))); reply(s)
    s.sendall(frame(b"M", b"<a@x>\0"))
    r = reply(s)
    sent += 1
    passed += r[:1] != b"y"
    s.close()
print(sent, passed)
PY
)
wait "$writer" "$reloader"
refused=$(grep -cE 'reload failed.*envfrom.rb: (is empty|changed while it was read)' "$PM_ERR")
read -r sent passed <<<"$got"
if [ "${sent:-0}" -gt 20 ] && [ "$passed" = 0 ]; then
    pass "rewrite: $sent messages during 3 s of in-place rewrites and reloads, none unfiltered ($refused reloads refused)"
else fail "rewrite: no message unfiltered during in-place rewrites and reloads" "sent=$sent unfiltered=$passed refused reloads=$refused"; fi
stop_clean "rewrite"
