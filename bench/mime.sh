#!/bin/bash
# bench/mime.sh: two eom handlers on a ~47 KiB multipart message (text, HTML, two
# base64 attachments, one with an RFC 2231 name):
#   walk     walks s.mime and checks every part's file name;
#   rewrite  the same, then replaces the zip by a notice and appends a note to the
#            text, so pmilter rebuilds the body and sends it (replace_body).
# Each sends N messages one after another (one pmilter-client process each, so
# msg/s includes that process's start) and prints msg/s and the median and p90 of
# the handler's own µs per message (Time.now around the walk and the edits; the
# rebuild runs after the handler and shows in msg/s only). `make bench-mime`.
# Environment: N (default 300), PMILTER, CLIENT.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PMILTER=${PMILTER:-$ROOT/pmilter} CLIENT=${CLIENT:-$ROOT/pmilter-client} N=${N:-300}
T=$(mktemp -d /tmp/pmilter-bench-mime.XXXXXX)
PID=""
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/handler"
python3 - "$T/m.eml" <<'PY'
import base64, random, sys
rnd = random.Random(1)
def b64(n):
    s = base64.b64encode(bytes(rnd.getrandbits(8) for _ in range(n))).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))
parts = ["Content-Type: text/plain; charset=utf-8\n\n" + "Hello, the report is attached.\n" * 40,
         "Content-Type: text/html; charset=utf-8\n\n<p>" + "Hello <b>there</b> " * 100 + "</p>\n",
         'Content-Type: application/pdf\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="report.pdf"\n\n' + b64(20000) + "\n",
         "Content-Type: application/zip\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename*=UTF-8''%C3%BCbersicht.zip\n\n" + b64(12000) + "\n"]
open(sys.argv[1], "w").write("From: a@example.com\nTo: b@example.com\nSubject: bench\nMIME-Version: 1.0\n"
    'Content-Type: multipart/mixed; boundary="bb"\n\n' + "".join("--bb\n" + p + "\n" for p in parts) + "--bb--\n")
PY
cat >"$T/handler/walk.rb" <<'RB'
s = Pmilter::Session.new
t = Time.now
bad = false
s.mime.each_part { |p| bad = true if p.filename.to_s =~ /\.(exe|scr|js)\z/i }
puts "us #{((Time.now - t) * 1_000_000).round}"
RB
cat >"$T/handler/rewrite.rb" <<'RB'
s = Pmilter::Session.new
t = Time.now
s.mime.each_part { |p| p.replace!(text: "#{p.filename} was removed.\n") if p.filename.to_s =~ /\.(exe|scr|js|zip)\z/i }
s.mime.append_text_note("-- filtered")
puts "us #{((Time.now - t) * 1_000_000).round}"
RB
# scenario NAME: N messages through handler/NAME.rb; one result line.
scenario() {
    printf '[server]\nlisten = "%s/pm.sock"\nlog_level = "warn"\n[handler.session]\nmruby_eom_handler = "handler/%s.rb"\n' "$T" "$1" >"$T/pmilter.conf"
    rm -f "$T/pm.sock"
    "$PMILTER" -c "$T/pmilter.conf" >"$T/out" 2>"$T/err" & PID=$!
    for i in $(seq 1 100); do [ -S "$T/pm.sock" ] && break; sleep 0.05; done
    start=$(date +%s.%N)
    for i in $(seq "$N"); do "$CLIENT" -s "unix:$T/pm.sock" "$T/m.eml" >"$T/client.out"; done
    end=$(date +%s.%N)
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    [ "$1" = walk ] || grep -q "replace body" "$T/client.out" || { echo "mime bench: $1: no body replaced" >&2; exit 1; }
    python3 - "$T/out" "$N" "$start" "$end" "$(wc -c <"$T/m.eml")" "$1" <<'PY'
import statistics, sys
v = sorted(int(l.split()[1]) for l in open(sys.argv[1]) if l.startswith("us "))
n, secs = int(sys.argv[2]), float(sys.argv[4]) - float(sys.argv[3])
print(f"mime bench {sys.argv[6]}: {sys.argv[5]} byte message, {len(v)}/{n} handled; {n / secs:.0f} msg/s sequential; "
      f"eom handler median {statistics.median(v):.0f} us, p90 {v[int(len(v) * 0.9)]} us")
PY
}
scenario walk
scenario rewrite
