# VM robustness: deep C recursion inside mruby, VMs that cannot be built,
# and error messages that say what went wrong where.

# Deeply nested structures make mruby recurse in C (Array#join, inspect,
# ==, hash ...). With a 1 MiB stack (ulimit -s, which sets the stack of
# libmilter's worker threads and of the main thread) a depth of 120,000 is
# far past the end. Each must answer tempfail with SystemStackError, and the
# server must live on.
deep_handler='f = Pmilter::Session.new.envelope_from
nest = ->(n) { a = []; n.times { a = [a] }; a }
a = nest.(120_000) unless f == "<fine@x>"
case f
when "<join@x>" then a.join
when "<join_sep@x>" then a.join(",")
when "<inspect@x>" then a.inspect
when "<to_s@x>" then a.to_s
when "<flatten@x>" then a.flatten
when "<eq@x>" then a == nest.(120_000)
when "<eql@x>" then a.eql?(nest.(120_000))
when "<hash@x>" then a.hash
when "<cmp@x>" then a <=> nest.(120_000)
when "<hash_nest@x>" then h = {}; 120_000.times { h = {k: h} }; h.inspect
when "<hash_eq@x>" then h = {}; g = {}; 120_000.times { h = {k: h}; g = {k: g} }; h == g
when "<hash_hash@x>" then h = {}; 120_000.times { h = {k: h} }; h.hash
when "<mixed@x>" then m = []; 60_000.times { m = [{k: m}] }; m.to_s
when "<eval@x>" then eval("[" * 100_000 + "]" * 100_000)
end
puts "vm ok #{f}"'
deep_kinds="join join_sep inspect to_s flatten eq eql hash cmp hash_nest hash_eq hash_hash mixed eval"

# start_small_stack [VAR=VALUE...]: starts pmilter on $CONF with a 1 MiB
# stack (and the given environment), through a wrapper that execs it.
start_small_stack() {
    { echo '#!/bin/sh'; echo 'ulimit -s 1024'; [ $# -eq 0 ] || printf 'export %s\n' "$@"; echo "exec '$PMILTER' \"\$@\""; } >"$D/pmilter"
    chmod +x "$D/pmilter"
    PMILTER=$D/pmilter start_pmilter "$CONF"
}

# deep_site NAME [VAR=VALUE...]: a site running deep_handler under a 1 MiB stack.
deep_site() {
    local name=$1; shift
    new_site "$name" 'min_worker = 1' 'max_worker = 2' 'handler_timeout = 60'
    handler envfrom "$deep_handler"
    start_small_stack "$@" || fail "$name: start" "$(cat "$PM_ERR")"
}

# deep_run NAME: sends every deep structure, then a normal message.
deep_run() {
    local name=$1 k
    for k in $deep_kinds; do
        mt "$name: $k on a 120,000-deep structure answers tempfail" "
local conn = connect(); mt.set_timeout(60)
local _, r = message({conn = conn, from = '<$k@x>'})
expect_reply('envfrom', r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)"
        kill -0 "$PM_PID" 2>/dev/null || { fail "$name: $k: pmilter survives" "pmilter died: $(tail -2 "$PM_ERR" | tr '\n' ' ')"; return; }
    done
    mt "$name: the next message on the same server is served" '
local conn, r = message({from = "<fine@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)'
    out_has "$name: the handler ran to its end" "vm ok <fine@x>"
    log_has "$name: join is logged as SystemStackError with the handler file" \
        'handler/envfrom.rb[:0-9]*: stack level too deep \(SystemStackError\) \(phase envfrom, session [0-9]+, queue 4XyZ1; answering tempfail\)'
}

deep_site deep
deep_run "deep"
stop_clean "deep"

# The signal handler behind the allocator's check (recursion that does not
# allocate) is tested on its own in test/unit/test_stack_guard.c.

# A fault that is not a stack overflow still kills the process, by its
# signal (under ASan: by ASan's report, exit status 1; under TSan: by its
# report, with TSAN_OPTIONS' exitcode).
deep_site deep_crash
kill -SEGV "$PM_PID"
wait "$PM_PID" 2>/dev/null
st=$?
PM_PID=
if [ "$st" = 139 ] || { [ "$st" = 1 ] && grep -q 'ERROR: AddressSanitizer: SEGV' "$PM_ERR"; } ||
    { [ "$st" != 0 ] && grep -q 'ERROR: ThreadSanitizer: SEGV' "$PM_ERR"; }; then
    pass "deep_crash: any other SIGSEGV still kills pmilter"
else fail "deep_crash: any other SIGSEGV still kills pmilter" "exit status $st"; fi

# The main thread runs postconfig and master_exit: guarded too.
new_site deep_main 'min_worker = 1'
printf '[handler.config]\nmruby_master_exit_handler = "handler/master_exit.rb"\n' >>"$CONF"
printf 'a = []; 120_000.times { a = [a] }; a.join\n' >"$D/handler/master_exit.rb"
start_small_stack || fail "deep_main: start" "$(cat "$PM_ERR")"
stop_pmilter
if [ "$PM_STATUS" -lt 128 ]; then pass "deep_main: master_exit overflowing the main thread's stack does not crash"
else fail "deep_main: master_exit overflowing the main thread's stack does not crash" "exit status $PM_STATUS"; fi
log_has "deep_main: the overflow in master_exit is logged" \
    'handler/master_exit.rb[:0-9]*: stack level too deep \(SystemStackError\) \(phase master_exit\)'

# A VM that cannot be built (a library that raises) fails that one callback
# with handler_error and a log line; the server lives and recovers when the
# library loads again. Before, vm_pool.c called abort().
new_site vmbuild 'min_worker = 1' 'max_worker = 1' 'handler_memory = 16'
mkdir -p "$D/lib"
printf 'raise "library refuses to load" if File.exist?("%s/refuse")\n' "$D" >"$D/lib/flaky.rb"
printf '[handler.config]\nmruby_library = ["lib/flaky.rb"]\n' >>"$CONF"
handler envfrom 'if Pmilter::Session.new.envelope_from == "<alloc@x>"
  a = []; loop { a << ("x" * 100_000) }
end
puts "vmbuild ok"'
start_pmilter "$CONF" || fail "vmbuild: start" "$(cat "$PM_ERR")"
wait_for grep -q "listening on" "$PM_ERR" # the socket exists before the first VM does
touch "$D/refuse"
mt "vmbuild: NoMemoryError retires the only VM (tempfail)" '
local conn, r = message({from = "<alloc@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
mt "vmbuild: no VM can be built: the callback answers tempfail" '
for i = 1, 2 do
  local conn, r = message({from = "<fine@x>"})
  expect_reply("envfrom " .. i, r.envfrom, SMFIR_TEMPFAIL)
  mt.disconnect(conn)
end'
check "vmbuild: pmilter is still running" kill -0 "$PM_PID"
log_has "vmbuild: the log says no VM was available, and why" \
    'handler/envfrom.rb: not run, no mruby VM available: .*lib/flaky.rb:1: library refuses to load \(RuntimeError\) \(phase envfrom, session [0-9]+, queue 4XyZ1; answering tempfail\)'
rm -f "$D/refuse"
mt "vmbuild: once the library loads again, mail is served" '
local conn, r = message({from = "<fine@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "vmbuild: the new VM ran the handler" "vmbuild ok"
stop_clean "vmbuild"

# Error messages: a method called on nil says "for nil"; an error inside a
# library names the chain of callers (up to 5 frames).
new_site errmsg
mkdir -p "$D/lib"
cat >"$D/lib/util.rb" <<'RUBY'
def check_sender(addr)
  normalize(addr)
end
def normalize(addr)
  raise ArgumentError, "bad sender #{addr}"
end
def l1; l2; end
def l2; l3; end
def l3; l4; end
def l4; l5; end
def l5; l6; end
def l6; raise "bottom"; end
RUBY
printf '[handler.config]\nmruby_library = ["lib/util.rb"]\n' >>"$CONF"
handler envfrom 'case Pmilter::Session.new.envelope_from
when "<chain@x>" then check_sender("<chain@x>")
when "<deep@x>" then l1
end'
handler eom 'h = Pmilter::Session::Headers.new
puts "missing header reads #{h["X-Missing"].inspect}"
h["X-Missing"].downcase'
start_pmilter "$CONF" || fail "errmsg: start" "$(cat "$PM_ERR")"
mt "errmsg: a method called on nil answers tempfail" '
local conn, r = message({})
expect_reply("eom", r.eom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
out_has "errmsg: Headers#[] of a missing header is nil" "missing header reads nil"
log_has "errmsg: NoMethodError names nil as the receiver" \
    "handler/eom.rb:3: undefined method 'downcase' for nil \\(NoMethodError\\) \\(phase eom"
mt "errmsg: an error inside a library answers tempfail" '
local conn, r = message({from = "<chain@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "errmsg: the error names the library line and the chain of callers" \
    'lib/util.rb:5:in normalize: bad sender <chain@x> \(ArgumentError\) \(from [^ ]*lib/util.rb:2:in check_sender, [^ ]*handler/envfrom.rb:2\) \(phase envfrom'
mt "errmsg: a deep chain answers tempfail" '
local conn, r = message({from = "<deep@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "errmsg: the chain stops at 5 frames" \
    'lib/util.rb:12:in l6: bottom \(RuntimeError\) \(from [^ ]*lib/util.rb:11:in l5, [^ ]*lib/util.rb:10:in l4, [^ ]*lib/util.rb:9:in l3, [^ ]*lib/util.rb:8:in l2, \.\.\.\) \(phase envfrom'
stop_clean "errmsg"

# While a VM exists but is busy, a failed build waits for it instead of
# failing the callback.
new_site vmwait 'min_worker = 1' 'max_worker = 2'
mkdir -p "$D/lib"
printf 'raise "library refuses to load" if File.exist?("%s/refuse")\n' "$D" >"$D/lib/flaky.rb"
printf '[handler.config]\nmruby_library = ["lib/flaky.rb"]\n' >>"$CONF"
handler envfrom 't = Time.now
while Time.now - t < 1.5; end if Pmilter::Session.new.envelope_from == "<slow@x>"'
start_pmilter "$CONF" || fail "vmwait: start" "$(cat "$PM_ERR")"
wait_for grep -q "listening on" "$PM_ERR"
touch "$D/refuse"
got=$(python3 - "$SOCK" <<'PY'
import socket, struct, sys, time
sys.path.insert(0, "test/integration")
from rawclient import frame, letter
def session():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20)
    s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0))); s.recv(100)
    return s
slow, quick = session(), session()
slow.sendall(frame(b"M", b"<slow@x>\0"))
time.sleep(0.5)  # slow's handler holds the only VM
quick.sendall(frame(b"M", b"<quick@x>\0"))
print(letter(quick), letter(slow))
PY
)
if [ "$got" = "c c" ]; then pass "vmwait: a callback that finds the only VM busy and cannot build another waits for it"
else fail "vmwait: a callback that finds the only VM busy and cannot build another waits for it" "replies: $got"; fi
log_has "vmwait: the failed build is logged" 'cannot add a VM to the pool \(waiting for a busy one\): .*library refuses to load'
stop_clean "vmwait"
