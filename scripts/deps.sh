#!/bin/sh
# Install the Debian packages listed in scripts/packages/*.txt that are not
# installed yet. Runs apt-get only when something is missing, so a second
# `make` costs one dpkg-query. Usage: scripts/deps.sh [LIST ...] (default: all lists)
set -eu
here=$(dirname "$0")
if [ $# -eq 0 ]; then set -- "$here"/packages/*.txt; fi
missing=""
for pkg in $(cat "$@" | sed 's/#.*//'); do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in *"ok installed"*) ;; *) missing="$missing $pkg" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages:$missing; run as root or: sudo apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks a debconf question on install; answer it so no prompt blocks CI.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
