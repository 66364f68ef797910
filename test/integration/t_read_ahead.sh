# Read-ahead on the MTA connections (src/milter/mta_read.c): one read takes
# whatever the MTA sent and libmilter's next polls and reads are answered from
# it. Every way the bytes can arrive must give the same replies and the same
# handler view: a whole transaction in one write, one byte per write, a
# QUIT_NC with the next connection's commands in the same write, a 64 KiB
# body chunk between small commands, a command cut short by a hang-up or by
# silence (libmilter's timeout must still apply), many such clients at once;
# and the point of it: fewer read system calls per message.
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
PIPE=$REPO/test/integration/pipeline.py
new_site read_ahead 'max_body_size = 1048576' 'timeout = 3'
for p in connect helo envrcpt data header eoh body; do handler $p 'x = 1'; done
handler envfrom 's = Pmilter::Session.new
puts "from=#{s.envelope_from} mail_addr=#{s.mail_addr}"'
handler eom 's = Pmilter::Session.new
sum = 0
s.body.each_byte { |b| sum = (sum * 31 + b) % 1000003 }
puts "eom headers=#{s.headers.size} last=#{s.headers.last[0]} body=#{s.body.bytesize} sum=#{sum}"
Pmilter::Session::Headers.new["X-Seen"] = "yes"
s.replace_body("0123456789abcdef" * 250_000) if s.envelope_from == "<big@example.com>"'
start_pmilter "$CONF" || fail "read_ahead: start" "$(cat "$PM_ERR")"

# expected N_HEADERS: the replies of pipeline.py for one transaction
expected() { printf 'c\n%.0s' $(seq 1 $((5 + $1 + 2))); printf 'h X-Seen\nc\n'; }
eom_lines() { tr -d '\r' <"$PM_OUT" | grep -c "^eom headers=$1 last=X-Test-$(($1 - 1)) body=$2 sum=$3\$"; }
body_sum() { python3 -c 'import sys; b = sys.argv[1].encode() if sys.argv[1] != "big" else bytes((i * 7) % 251 + 1 for i in range(65535))
s = 0
for x in b: s = (s * 31 + x) % 1000003
print(s)' "$1"; }
small_sum=$(body_sum $'hello\r\n')

out=$(python3 "$PIPE" "unix:$SOCK" burst 50 2>&1)
[ "$out" = "$(echo O; expected 50)" ] && pass "read_ahead: a whole transaction with 50 headers in one write gets every reply, in order" ||
    fail "read_ahead: a whole transaction with 50 headers in one write gets every reply, in order" "$(echo "$out" | uniq -c | tr '\n' ' ')"
[ "$(eom_lines 50 7 "$small_sum")" = 1 ] && pass "read_ahead: ... and the handlers saw all 50 headers and the body" ||
    fail "read_ahead: ... and the handlers saw all 50 headers and the body" "$(grep '^eom' "$PM_OUT")"
grep -q '^from=<sender@example.com> mail_addr=sender@example.com' "$PM_OUT" &&
    pass "read_ahead: the macro frame before MAIL FROM, in the same write, reached the handler" ||
    fail "read_ahead: the macro frame before MAIL FROM, in the same write, reached the handler" "$(grep '^from' "$PM_OUT")"

out=$(python3 "$PIPE" "unix:$SOCK" bytewise 5 2>&1)
[ "$out" = "$(echo O; expected 5)" ] && [ "$(eom_lines 5 7 "$small_sum")" = 1 ] &&
    pass "read_ahead: the same transaction one byte per write" ||
    fail "read_ahead: the same transaction one byte per write" "$(echo "$out" | uniq -c | tr '\n' ' ') $(grep '^eom' "$PM_OUT")"

out=$(python3 "$PIPE" "unix:$SOCK" quitnc 3 2>&1)
[ "$out" = "$(echo O; expected 3; expected 3)" ] && [ "$(eom_lines 3 7 "$small_sum")" = 2 ] &&
    pass "read_ahead: QUIT_NC and the next connection's transaction in one write: both served" ||
    fail "read_ahead: QUIT_NC and the next connection's transaction in one write: both served" "$(echo "$out" | uniq -c | tr '\n' ' ')"

out=$(python3 "$PIPE" "unix:$SOCK" qncburst 3 2>&1)
[ "$out" = "$(echo O; expected 3; expected 4)" ] && [ "$(eom_lines 4 7 "$small_sum")" = 1 ] &&
    pass "read_ahead: two transactions, the QUIT_NC between them and QUIT, all in one write" ||
    fail "read_ahead: two transactions, the QUIT_NC between them and QUIT, all in one write" "$(echo "$out" | uniq -c | tr '\n' ' ')"

# The safety of synthesized POLLIN: a command left half in the buffer must
# still wait in the kernel with libmilter's timeout (3 s here), not in a read.
out=$(python3 "$PIPE" "unix:$SOCK" stall 2>&1)
secs=$(echo "$out" | sed -n 's/^closed after \([0-9]*\) s$/\1/p')
[ "$(echo "$out" | head -3 | tr '\n' ' ')" = "O c c " ] && [ -n "$secs" ] && [ "$secs" -ge 2 ] && [ "$secs" -le 10 ] &&
    pass "read_ahead: half a command in the buffer, then silence: hung up after ${secs} s (timeout = 3)" ||
    fail "read_ahead: half a command in the buffer, then silence: hung up after the timeout" "$(echo "$out" | tr '\n' ' ')"

out=$(python3 "$PIPE" "unix:$SOCK" bigbody 2 2>&1)
[ "$out" = "$(echo O; expected 2)" ] && [ "$(eom_lines 2 65535 "$(body_sum big)")" = 1 ] &&
    pass "read_ahead: a 65535-byte body chunk between small commands arrives whole" ||
    fail "read_ahead: a 65535-byte body chunk between small commands arrives whole" "$(echo "$out" | uniq -c | tr '\n' ' ') $(grep '^eom headers=2' "$PM_OUT")"

# Replies are sent without a poll first (__wrap_writev); one that finds the
# socket buffer full must wait for the MTA, not fail or lose bytes.
ticks() { sed 's/.*) //' "/proc/$PM_PID/stat" | awk '{print $12 + $13}'; }
t0=$(ticks)
out=$(python3 "$PIPE" "unix:$SOCK" slowread 1 2>&1)
spent=$(( ($(ticks) - t0) * 1000 / $(getconf CLK_TCK) ))
[ "$out" = "$(echo O; expected 1 | sed '$d'; echo "b 4000000"; echo c)" ] &&
    pass "read_ahead: a 4 MB replaced body to an MTA that reads its replies 1 s late arrives whole" ||
    fail "read_ahead: a 4 MB replaced body to an MTA that reads its replies 1 s late arrives whole" "$(echo "$out" | uniq -c | tr '\n' ' ')"
[ "$spent" -lt 500 ] && pass "read_ahead: ... and pmilter waits for it in the kernel (${spent} ms of CPU in that second)" ||
    fail "read_ahead: ... and pmilter waits for it in the kernel, not in a loop" "${spent} ms of CPU"

python3 "$PIPE" "unix:$SOCK" cut >/dev/null 2>&1
out=$(python3 "$PIPE" "unix:$SOCK" burst 4 2>&1)
[ "$out" = "$(echo O; expected 4)" ] && kill -0 "$PM_PID" 2>/dev/null &&
    pass "read_ahead: a hang-up in the middle of a buffered command; the next client is served" ||
    fail "read_ahead: a hang-up in the middle of a buffered command; the next client is served" "$out"

# 16 clients at once, each a burst, a byte-wise transaction or a QUIT_NC pair:
# the leftover bytes of one session never reach another.
before=$(tr -d '\r' <"$PM_OUT" | grep -c '^eom ')
pids=()
for i in $(seq 1 16); do
    mode=$(case $((i % 3)) in 0) echo burst ;; 1) echo quitnc ;; 2) echo bytewise ;; esac)
    python3 "$PIPE" "unix:$SOCK" "$mode" $((i + 1)) >"$D/par-$i.out" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}"
bad=0
for i in $(seq 1 16); do
    n=$((i + 1))
    case $((i % 3)) in 1) want=$(echo O; expected $n; expected $n) ;; *) want=$(echo O; expected $n) ;; esac
    [ "$(cat "$D/par-$i.out")" = "$want" ] || { bad=$((bad + 1)); echo "client $i: $(uniq -c "$D/par-$i.out" | tr '\n' ' ')"; }
done >"$D/par.err"
after=$(tr -d '\r' <"$PM_OUT" | grep -c '^eom ')
[ "$bad" = 0 ] && [ $((after - before)) = 22 ] && pass "read_ahead: 16 such clients at once, every reply right (22 messages)" ||
    fail "read_ahead: 16 such clients at once, every reply right (22 messages)" "$bad wrong, $((after - before)) eom lines: $(head -3 "$D/par.err")"

# The point: read system calls per message (/proc/PID/io syscr, every thread).
# pmilter-client sends each round trip's frames (a macro frame and its
# command) in one write and waits for the reply; libmilter alone reads every
# command's header and rest separately: 39 reads per message of this load
# (every phase negotiated, 10 headers), 16 with read-ahead.
r0=$(awk '/^syscr/ {print $2}' "/proc/$PM_PID/io")
n=$("$CLIENT" --load -s "unix:$SOCK" -c 1 -m 50 -t 1 --json 2>/dev/null | jq '.messages')
r1=$(awk '/^syscr/ {print $2}' "/proc/$PM_PID/io")
per=$(( (r1 - r0) / ${n:-1} ))
[ "${n:-0}" -gt 0 ] && [ "$per" -le 20 ] && pass "read_ahead: $per read calls per message (at most 20; libmilter alone: 39)" ||
    fail "read_ahead: at most 20 read calls per message (libmilter alone: 39)" "$n messages, $(( r1 - r0 )) reads"
stop_pmilter
check_sanitizer_clean "read_ahead: no sanitizer report"

# The wrappers see only what libmilter calls by these names: a read through
# recv/readv would leave `readable` set after the bytes are gone (a blocking
# read without timeout), an accept4/dup an unregistered or stale descriptor.
LM=$(${CC:-cc} -print-file-name=libmilter.a)
other=$(nm -u "$LM" 2>/dev/null | awk '{print $2}' | grep -xE 'recv|recvfrom|recvmsg|readv|preadv?|accept4|select|pselect|ppoll|dup[23]?|send|sendto|sendmsg|close_range' | sort -u | tr '\n' ' ')
[ -z "$other" ] && nm -u "$LM" 2>/dev/null | grep -qx ' *U read' && nm -u "$LM" 2>/dev/null | grep -qx ' *U close' &&
    pass "read_ahead: libmilter.a does its MTA I/O only through the wrapped calls" ||
    fail "read_ahead: libmilter.a does its MTA I/O only through the wrapped calls" "also uses: ${other:-?} ($LM); see src/milter/mta_read.c"
