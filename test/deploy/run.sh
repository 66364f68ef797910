#!/bin/bash
# Deployment suite: `make install` into a staging DESTDIR (nothing outside the
# suite's temp directory is written), the installed production config passes
# `pmilter -t`, a second install keeps edited files, uninstall, and the systemd
# unit passes `systemd-analyze verify` and an offline security review.
# Prints one "PASS: name" / "FAIL: name: why" line per test.
# It installs the default build (./pmilter, ./pmilter-client), whatever PMILTER says.
# checks: 8  (the least number of PASS/FAIL lines; test/run.sh enforces it)
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
source test/lib.sh

if ! scripts/deps.sh scripts/packages/deploy.txt; then
    fail deploy-packages "cannot install scripts/packages/deploy.txt"
    exit 1
fi
tmpdir
D=$T/root                               # DESTDIR
mk() { make -C "$REPO" --no-print-directory BUILD=build/default BIN=pmilter SAN= DESTDIR="$D" PREFIX=/usr "$@"; }

# 1. Every documented file, and nothing else, with its mode; all owned by root.
want_files="
755 usr/sbin/pmilter
755 usr/bin/pmilter-client
644 etc/pmilter/pmilter.conf
644 etc/pmilter/handler/eom.rb
644 usr/lib/systemd/system/pmilter.service
644 usr/share/doc/pmilter/README.md
644 usr/share/doc/pmilter/api.md
644 usr/share/doc/pmilter/postfix.md
644 usr/share/doc/pmilter/sendmail.md
644 usr/share/man/man8/pmilter.8
644 usr/share/man/man5/pmilter.conf.5"
t_install() {
    local out m f got
    out=$(mk install 2>&1) || { why="make install failed: $(tail -3 <<<"$out")"; return 1; }
    while read -r m f; do
        [ -n "$f" ] || continue
        [ -f "$D/$f" ] || { why="$f was not installed"; return 1; }
        got=$(stat -c %a "$D/$f")
        [ "$got" = "$m" ] || { why="$f has mode $got, expected $m"; return 1; }
    done <<<"$want_files"
    got=$(cd "$D" && find . -type d ! -perm 755 -printf '%p %m\n')
    [ -z "$got" ] || { why="directories not 0755: $got"; return 1; }
    got=$(find "$D" ! -user root -printf '%P ')
    [ -z "$got" ] || { why="not owned by root: $got"; return 1; }
    # Every other installed file is a doc (docs/*.md).
    got=$(cd "$D" && find . -type f ! -path './usr/share/doc/pmilter/*.md' -printf '%P\n' | sort)
    [ "$got" = "$(awk 'NF && $2 !~ /^usr\/share\/doc/ {print $2}' <<<"$want_files" | sort)" ] ||
        { why="unexpected files: ${got//$'\n'/ }"; return 1; }
    cmp -s deploy/pmilter.conf "$D/etc/pmilter/pmilter.conf" || { why="installed pmilter.conf differs from deploy/pmilter.conf"; return 1; }
    cmp -s "$PWD/pmilter" "$D/usr/sbin/pmilter" || { why="installed pmilter is not ./pmilter"; return 1; }
}
if t_install; then pass install-files; else fail install-files "$why"; fi

UNIT=$D/usr/lib/systemd/system/pmilter.service

# 2. The installed config: production values, and `pmilter -t` accepts it
# without a warning. Handler paths are relative to the config file, so the
# staged copy resolves them inside DESTDIR. Without a pmilter user on this
# machine, a copy names nobody/nogroup instead (nothing is added to /etc/passwd).
t_config() {
    local c=$D/etc/pmilter/pmilter.conf k out rc
    for k in 'listen = "/var/spool/postfix/pmilter/pmilter.sock"' 'user = "pmilter"' 'group = "pmilter"' \
        'listen_owner = "pmilter"' 'listen_group = "postfix"' 'listen_mode = "0660"' 'handler_error = "tempfail"' \
        'mruby_eom_handler = "handler/eom.rb"'; do
        grep -qxF "  $k" "$c" || { why="installed config lacks: $k"; return 1; }
    done
    if ! id pmilter >/dev/null 2>&1 || ! getent group pmilter >/dev/null; then
        sed -e 's/^\(  user = \|  listen_owner = \)"pmilter"/\1"nobody"/' -e 's/^  group = "pmilter"/  group = "nogroup"/' \
            "$c" >"$D/etc/pmilter/test.conf"
        c=$D/etc/pmilter/test.conf
    fi
    getent group postfix >/dev/null || sed -i 's/^  listen_group = "postfix"/  listen_group = "nogroup"/' "$c"
    out=$("$D/usr/sbin/pmilter" -t -c "$c" 2>&1); rc=$?
    rm -f "$D/etc/pmilter/test.conf"
    [ $rc -eq 0 ] || { why="pmilter -t exited $rc: $out"; return 1; }
    if grep -qE '\]\[(warn|error)\]' <<<"$out"; then why="pmilter -t warned: $(grep -E '\]\[(warn|error)\]' <<<"$out" | tr '\n' ' ')"; return 1; fi
}
if t_config; then pass installed-config-checks; else fail installed-config-checks "$why"; fi

# The installed handler works: the staged config, its socket moved into the
# suite's temp dir and run as nobody, filters one message played by the
# installed pmilter-client: X-Pmilter is added and one line is printed.
t_serve() {
    local c=$D/etc/pmilter/serve.conf sd=$T/sock out line
    mkdir -p "$sd" && chown nobody "$sd" && chmod 0755 "$sd"
    sed -e "s#^  listen = .*#  listen = \"$sd/pmilter.sock\"#" -e 's/"pmilter"/"nobody"/' -e 's/^  group = .*/  group = "nogroup"/' \
        -e 's/^  listen_group = .*/  listen_group = "nogroup"/' "$D/etc/pmilter/pmilter.conf" >"$c"
    printf 'From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: hi\r\n\r\nhello\r\n' >"$T/mail.eml"
    PMILTER=$D/usr/sbin/pmilter start_pmilter "$c" || { why="the installed pmilter did not start: $(tail -2 "$PM_ERR")"; return 1; }
    out=$("$D/usr/bin/pmilter-client" -s "unix:$sd/pmilter.sock" "$T/mail.eml" 2>&1) || { why="pmilter-client: $out"; stop_pmilter; return 1; }
    stop_pmilter
    rm -f "$c"
    grep -q 'add header: X-Pmilter: Enable' <<<"$out" || { why="no X-Pmilter header added: $(tr '\n' ' ' <<<"$out")"; return 1; }
    line=$(grep '^pmilter: ' "$PM_OUT")
    [[ "$line" =~ ^pmilter:\ queue_id=[0-9A-Z]+\ from=\<alice@example\.com\>\ to=\<bob@example\.org\>$ ]] ||
        { why="handler printed '$line'"; return 1; }
    [ "$PM_STATUS" -eq 0 ] || { why="pmilter exited $PM_STATUS on SIGTERM: $(tail -1 "$PM_ERR")"; return 1; }
}
if t_serve; then pass installed-handler-serves; else fail installed-handler-serves "$why"; fi

# 3. A second install keeps an edited config and handler (new ones beside
# them as .dist), and installs unedited files again without a .dist.
t_reinstall() {
    local c=$D/etc/pmilter/pmilter.conf h=$D/etc/pmilter/handler/eom.rb out
    mk install >/dev/null 2>&1 || { why="second make install failed"; return 1; }
    if [ -e "$c.dist" ] || [ -e "$h.dist" ]; then why="an unedited file got a .dist copy"; return 1; fi
    echo '# edited by the admin' >>"$c"
    echo '# edited by the admin' >>"$h"
    out=$(mk install 2>&1) || { why="third make install failed: $(tail -3 <<<"$out")"; return 1; }
    [ "$(tail -1 "$c")" = '# edited by the admin' ] || { why="the edited pmilter.conf was overwritten"; return 1; }
    [ "$(tail -1 "$h")" = '# edited by the admin' ] || { why="the edited handler/eom.rb was overwritten"; return 1; }
    cmp -s deploy/pmilter.conf "$c.dist" || { why="no pmilter.conf.dist with the new config"; return 1; }
    cmp -s deploy/handler/eom.rb "$h.dist" || { why="no handler/eom.rb.dist with the new handler"; return 1; }
    grep -q 'pmilter.conf exists; installing the new one as .*pmilter.conf.dist' <<<"$out" ||
        { why="make install did not say where the new config went"; return 1; }
}
if t_reinstall; then pass reinstall-keeps-edited-config; else fail reinstall-keeps-edited-config "$why"; fi

# 4. The unit: PREFIX substituted, the keys the docs promise, and systemd's own checks.
t_unit_keys() {
    local k
    grep -qE '@[A-Z]+@' "$UNIT" && { why="unsubstituted placeholder: $(grep -E '@[A-Z]+@' "$UNIT")"; return 1; }
    # shellcheck disable=SC2016   # $MAINPID is systemd's, literally
    for k in 'Type=notify' 'ExecStartPre=/usr/sbin/pmilter -t -c /etc/pmilter/pmilter.conf' \
        'ExecStart=/usr/sbin/pmilter -c /etc/pmilter/pmilter.conf' \
        'ExecReload=/bin/kill -USR1 $MAINPID' \
        'Restart=always' 'RestartPreventExitStatus=78' 'WatchdogSec=30s' 'KillSignal=SIGTERM' 'TimeoutStopSec=40' 'LimitNOFILE=16384' 'ProtectSystem=strict' \
        'ReadWritePaths=-/var/spool/postfix/pmilter' 'NoNewPrivileges=yes' 'MemoryDenyWriteExecute=yes' \
        'CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_CHOWN CAP_DAC_OVERRIDE' \
        'WantedBy=multi-user.target'; do
        grep -qxF "$k" "$UNIT" || { why="installed unit lacks: $k"; return 1; }
    done
    grep -qxF 'ExecStart=/usr/local/sbin/pmilter -c /etc/pmilter/pmilter.conf' \
        <(make -C "$REPO" --no-print-directory -s BUILD=build/default BIN=pmilter SAN= DESTDIR="$T/local" install >/dev/null 2>&1 &&
            cat "$T/local/usr/local/lib/systemd/system/pmilter.service") ||
        { why="with the default PREFIX, ExecStart is not /usr/local/sbin/pmilter"; return 1; }
}
if t_unit_keys; then pass unit-keys; else fail unit-keys "$why"; fi

# systemd-analyze checks that the binaries exist: verify a copy whose
# commands point into DESTDIR. Any message (an unknown key is only a
# warning with exit 0) is a failure.
t_unit_verify() {
    local out
    command -v systemd-analyze >/dev/null || { why="systemd-analyze missing (scripts/packages/deploy.txt: systemd)"; return 1; }
    mkdir -p "$T/unit"
    sed "s#/usr/sbin/pmilter#$D/usr/sbin/pmilter#g" "$UNIT" >"$T/unit/pmilter.service"
    out=$(systemd-analyze verify "$T/unit/pmilter.service" 2>&1) || { why="systemd-analyze verify failed: $out"; return 1; }
    [ -z "$out" ] || { why="systemd-analyze verify: $(tr '\n' ' ' <<<"$out")"; return 1; }
}
if t_unit_verify; then pass unit-verify; else fail unit-verify "$why"; fi

# systemd's offline exposure score (0 = locked down, 10 = unprotected); 3.0
# leaves room for systemd's scoring to move a little between versions.
t_unit_security() {
    local out score
    out=$(systemd-analyze security --offline=yes --no-pager "$T/unit/pmilter.service" 2>&1)
    score=$(sed -nE 's/.*Overall exposure level for pmilter\.service: ([0-9.]+).*/\1/p' <<<"$out")
    [ -n "$score" ] || { why="no exposure level in: $(tail -2 <<<"$out")"; return 1; }
    awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || { why="exposure level $score > 3.0"; return 1; }
}
if t_unit_security; then pass unit-security-exposure; else fail unit-security-exposure "$why"; fi

# 5. uninstall removes what install added, and leaves /etc/pmilter alone.
t_uninstall() {
    local left
    mk uninstall >/dev/null 2>&1 || { why="make uninstall failed"; return 1; }
    left=$(cd "$D" && find . -type f ! -path './etc/pmilter/*' -printf '%P ')
    [ -z "$left" ] || { why="left behind: $left"; return 1; }
    [ -f "$D/etc/pmilter/pmilter.conf" ] || { why="uninstall removed /etc/pmilter/pmilter.conf"; return 1; }
}
if t_uninstall; then pass uninstall; else fail uninstall "$why"; fi
suite_exit
