# Privileges and file trust (docs/security.md), as a local attacker would try
# them. pmilter runs as root here and drops to `nobody`; the attacker is
# `nobody` or any other user. Test directories are 0755 root, inside /tmp
# (root's sticky directory, which the check allows).

# A good layout is accepted: files of root or of the run user, no directory
# on the way writable by others.
new_site priv_ok 'user = "nobody"' 'group = "nogroup"'
handler envfrom 'Pmilter::Session.new.reject!("filtered")'
cli "privileges: a root-owned layout under /tmp is accepted" 0 'are ok' -t -c "$CONF"
chown nobody "$D/handler/envfrom.rb"
cli "privileges: a handler owned by the run user is accepted" 0 'are ok' -t -c "$CONF"
chown root "$D/handler/envfrom.rb"

# refused NAME REGEX [ARGS]: -t exits 78 with one line naming the file and why.
refused() {
    local name=$1 re=$2
    local out; out=$("$PMILTER" -t -c "$CONF" 2>&1); local st=$?
    if [ "$st" = 78 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -qE -- "$re" <<<"$out"; then pass "$name"
    else fail "$name" "status $st (want 78), output: $(head -3 <<<"$out" | tr '\n' ' ')"; fi
}
H=$D/handler/envfrom.rb
chmod 0777 "$D/handler"
refused "privileges: a handler in a world-writable directory is refused" \
    "$H: refused: directory $D/handler is writable by every user"
chmod 0775 "$D/handler"
refused "privileges: a handler in a group-writable directory is refused" \
    "$H: refused: directory $D/handler is writable by its group"
chmod 0755 "$D/handler"
chmod 0664 "$H"
refused "privileges: a group-writable handler is refused" "$H: refused: file $H is writable by its group"
chmod 0644 "$H"
chown daemon "$H"
refused "privileges: a handler owned by another user is refused" "$H: refused: file $H is owned by uid $(id -u daemon), not by root or nobody"
chown root "$H"
chown daemon "$D"
refused "privileges: a directory above owned by another user is refused" ": refused: directory $D is owned by uid $(id -u daemon)"
chown root "$D"
chmod 1777 "$D/handler"
chown nobody "$D/handler"
refused "privileges: a sticky directory not owned by root is refused" "directory $D/handler is writable by every user"
chown root "$D/handler"
cli "privileges: root's sticky directory with root's handler in it is accepted (as /tmp)" 0 'are ok' -t -c "$CONF"
su -s /bin/sh daemon -c "cp '$H' '$D/handler/evil.rb'"
sed -i "s#handler/envfrom.rb#handler/evil.rb#" "$CONF"
refused "privileges: a handler another user planted in a sticky directory is refused" "evil.rb: refused: file $D/handler/evil.rb is owned by uid $(id -u daemon), not by root or nobody"
sed -i "s#handler/evil.rb#handler/envfrom.rb#" "$CONF"
chmod 0755 "$D/handler"

# Symlinks: the link's owner and the target's directories count too.
mkdir -m 0777 "$D/open"
cp "$H" "$D/open/real.rb"
mv "$H" "$D/envfrom.rb.orig"
ln -s "$D/open/real.rb" "$H"
refused "privileges: a symlink to a handler in a world-writable directory is refused" "directory $D/open is writable by every user"
rm "$H"
su -s /bin/sh daemon -c "ln -s '$D/envfrom.rb.orig' '$D/open/link.rb'"
ln -s "$D/open/link.rb" "$H"
chmod 0755 "$D/open"
refused "privileges: a symlink owned by another user on the way is refused" "symlink $D/open/link.rb is owned by uid $(id -u daemon)"
rm "$H"
mv "$D/envfrom.rb.orig" "$H"
# A symlinked directory on the way (the e2e fixtures link handler/ so) is a
# directory, not the handler file; its target's own path is checked too.
mv "$D/handler" "$D/handler.real"
ln -s "$D/handler.real" "$D/handler"
cli "privileges: a handler reached through a symlinked directory is accepted" 0 'are ok' -t -c "$CONF"
rm "$D/handler"
ln -s "$D/open" "$D/handler"
cp "$D/handler.real/envfrom.rb" "$D/open/envfrom.rb"
chmod 0777 "$D/open"
refused "privileges: a symlinked directory into a world-writable one is refused" "directory $D/open is writable by every user"
chmod 0755 "$D/open"
rm "$D/handler" "$D/open/envfrom.rb"
mv "$D/handler.real" "$D/handler"

# The config and mruby_library files are checked the same way.
chmod 0666 "$CONF"
refused "privileges: a world-writable config is refused" "$CONF: refused: file $CONF is writable by every user"
chmod 0644 "$CONF"
mkdir -m 0777 "$D/lib"
echo 'X = 1' >"$D/lib/lib.rb"
sed -i '/^\[handler.session\]/i [handler.config]\nmruby_library = ["lib/lib.rb"]\n' "$CONF"
refused "privileges: a library in a world-writable directory is refused" "$D/lib/lib.rb: refused: directory $D/lib is writable by every user"
chmod 0755 "$D/lib"
# Serving refuses the same way as -t (same code path): checked once.
chmod 0777 "$D/lib"
out=$(timeout 10 "$PMILTER" -c "$CONF" 2>&1); st=$?
chmod 0755 "$D/lib"
if [ "$st" = 78 ] && grep -q "lib.rb: refused" <<<"$out"; then pass "privileges: serving refuses an unsafe library with exit 78"
else fail "privileges: serving refuses an unsafe library with exit 78" "status $st: $(tail -2 <<<"$out" | tr '\n' ' ')"; fi

# -t runs mruby_library code as the configured user, not as root: the file a
# library writes is owned by nobody.
mkdir -m 0777 "$T/priv_out"
echo "File.open(\"$T/priv_out/written\", \"w\") { |f| f.write(\"x\") }" >"$D/lib/lib.rb"
cli "privileges: -t with a library that writes a file" 0 'are ok' -t -c "$CONF"
owner=$(stat -c %U "$T/priv_out/written" 2>/dev/null)
if [ "$owner" = nobody ]; then pass "privileges: -t runs library code as the configured user"
else fail "privileges: -t runs library code as the configured user" "the file it wrote is owned by '${owner:-nobody wrote it}'"; fi
rm -f "$T/priv_out/written"

# A reload after dropping root still refuses files another user can change,
# and the running handlers keep filtering.
echo 'X = 1' >"$D/lib/lib.rb"
start_pmilter "$CONF" || fail "privileges: start" "$(cat "$PM_ERR")"
mt "privileges: the handler filters" '
local conn, r = message({from = "<a@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_REPLYCODE)
mt.disconnect(conn)'
chown daemon "$H"
kill -USR1 "$PM_PID"
wait_for grep -q "reload failed, the running configuration stays: $H: refused: file $H is owned by uid $(id -u daemon)" "$PM_ERR" &&
    pass "privileges: a reload as nobody refuses a handler another user owns" ||
    fail "privileges: a reload as nobody refuses a handler another user owns" "$(tail -2 "$PM_ERR")"
mt "privileges: after the refused reload the old handler still filters" '
local conn, r = message({from = "<a@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_REPLYCODE)
mt.disconnect(conn)'
chown root "$H"
stop_clean "privileges"

# The socket: with user set and no listen_owner/listen_group/listen_mode it
# belongs to the run user and group, mode 0660 (root 0755 refused Postfix),
# and pmilter says so.
new_site sock_default 'user = "nobody"' 'group = "nogroup"'
handler envfrom 'nil'
start_pmilter "$CONF" || fail "socket default: start" "$(cat "$PM_ERR")"
got=$(stat -c '%U:%G %a' "$SOCK")
[ "$got" = "nobody:nogroup 660" ] && pass "socket default: user set gives the socket nobody:nogroup 0660" ||
    fail "socket default: user set gives the socket nobody:nogroup 0660" "got $got"
log_has "socket default: the default is logged as a warning" "warn.*pm.sock: the socket gets owner nobody, group nogroup, mode 0660 by default"
mt "socket default: the run user's group can connect" '
local conn, r = message({})
mt.disconnect(conn)'
start=$(date +%s%N)
stop_clean "socket default"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 2500 ] && pass "socket default: SIGTERM stops promptly (${ms} ms; 4 s when the socket was root 0755)" ||
    fail "socket default: SIGTERM stops promptly" "took ${ms} ms"

# Configured owner and mode are applied; a symlink planted at the old
# predictable temporary name (PATH.PID.tmp) changes nothing.
new_site sock_owner 'user = "nobody"' 'group = "nogroup"' 'listen_owner = "daemon"' 'listen_group = "nogroup"' 'listen_mode = "0640"'
handler envfrom 'nil'
touch "$D/victim"; chmod 0600 "$D/victim"
PM_OUT=$D/out; PM_ERR=$D/err
bash -c 'ln -s "$1/victim" "$2.$$.tmp"; exec "$3" -c "$4"' _ "$D" "$SOCK" "$PMILTER" "$CONF" >"$PM_OUT" 2>"$PM_ERR" &
PM_PID=$!
on_exit "kill -9 $PM_PID"
wait_for test -S "$SOCK" || fail "socket owner: start" "$(cat "$PM_ERR")"
got=$(stat -c '%U:%G %a' "$SOCK")
[ "$got" = "daemon:nogroup 640" ] && pass "socket owner: listen_owner/listen_group/listen_mode applied" ||
    fail "socket owner: listen_owner/listen_group/listen_mode applied" "got $got"
got=$(stat -c '%U %a' "$D/victim")
[ "$got" = "root 600" ] && pass "socket owner: a symlink at the old temporary name leaves its target alone" ||
    fail "socket owner: a symlink at the old temporary name leaves its target alone" "target is now $got"
leftover=$(find "$D" -name 'pm.sock.*' ! -name "pm.sock.$PM_PID.tmp" | head -1)
[ -z "$leftover" ] && pass "socket owner: no temporary socket file left behind" || fail "socket owner: no temporary socket file left behind" "$leftover"
stop_clean "socket owner"
