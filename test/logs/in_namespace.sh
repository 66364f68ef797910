#!/bin/bash
# in_namespace.sh KIND SOCKET PMILTER ARGS...: runs PMILTER ARGS in a private
# mount namespace where the system's log socket is SOCKET (a capture.py socket):
#   syslog   /dev/log (a private /dev holding the usual device nodes and a link)
#   journal  /run/systemd/journal/socket (a private /run/systemd)
# Nothing outside the namespace changes. The exec chain keeps one PID, so the
# caller can signal and wait for pmilter as if it had started it directly.
kind=$1 sock=$2; shift 2
exec unshare --mount --propagation private /bin/sh -e -c '
kind=$1 sock=$2; shift 2
if [ "$kind" = syslog ]; then
    real=$(mktemp -d /tmp/pmilter-realdev.XXXXXX)
    mount --bind /dev "$real"
    mount -t tmpfs -o mode=755 pmilter-dev /dev
    for n in null zero full random urandom tty; do
        [ -e "$real/$n" ] && touch "/dev/$n" && mount --bind "$real/$n" "/dev/$n"
    done
    umount "$real" && rmdir "$real"
    ln -s /proc/self/fd /dev/fd
    ln -s "$sock" /dev/log
else
    mount -t tmpfs -o mode=755 pmilter-run /run/systemd
    mkdir -p /run/systemd/journal
    ln -s "$sock" /run/systemd/journal/socket
fi
exec "$@"' in_namespace "$kind" "$sock" "$@"
