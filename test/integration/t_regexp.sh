# Regexp in handlers, and shared code through mruby_library.
new_site regexp
mkdir -p "$D/lib"
cat >"$D/lib/rules.rb" <<'RB'
SPAM_WORDS = /\b(viagra|c[i1]al[i1]s)\b/i
def spam_subject?(subject)
  !!(subject =~ SPAM_WORDS)
end
RB
sed -i '/^\[server\]/i [handler.config]\nmruby_library = ["lib/rules.rb"]\n' "$CONF"
handler header 'h = Pmilter::Session::Headers.new.header
if h.keys.first == "Subject" && spam_subject?(h.values.first)
  puts "spam subject: #{$~[1]}"
  Pmilter.status = Pmilter::SMFIS_REJECT
end'
handler envfrom 'if Pmilter::Session.new.envelope_from =~ /\A<(?<user>[^@>]+)@(?<domain>[^>]+)>\z/
  puts "sender user=#{$~[:user]} domain=#{$2}"
end'
start_pmilter "$CONF" || fail "regexp: start" "$(cat "$PM_ERR")"
mt "regexp: a subject matching a library pattern is rejected" '
local conn, r = message({from = "<taro@example.jp>", headers = {{"From", "x@y"}, {"Subject", "Cheap VIAGRA now"}}})
expect_reply("header", r.header, SMFIR_REJECT)
mt.disconnect(conn)'
out_has "regexp: named and numbered captures in a handler" "sender user=taro domain=example.jp"
out_has "regexp: \$~ is set after =~ on a library constant" "spam subject: VIAGRA"
mt "regexp: a clean subject passes" '
local conn, r = message({headers = {{"From", "x@y"}, {"Subject", "Minutes of the meeting"}}})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
stop_clean "regexp"

new_site regexp_bad_literal
handler eom 'x = 1
if Pmilter::Session.new.envelope_from =~ /(unclosed/
  x = 2
end'
cli "regexp: a malformed literal is a start-up error with file:line" 78 "$D/handler/eom.rb:2: end pattern with unmatched parenthesis: /\(unclosed/" -t -c "$CONF"
new_site regexp_runtime
handler envfrom 'Regexp.new("(")'
start_pmilter "$CONF" || fail "regexp_runtime: start" "$(cat "$PM_ERR")"
mt "regexp: Regexp.new with a bad pattern raises RegexpError (tempfail)" '
local conn, r = message({})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "regexp: the RegexpError is logged" 'handler/envfrom.rb:1(:in [a-z]+)?: .*\(RegexpError\)'
stop_clean "regexp_runtime"

new_site library_errors
mkdir -p "$D/lib"
printf 'def ok; end\nraise "library failed to load"\n' >"$D/lib/raise.rb"
sed -i '/^\[server\]/i [handler.config]\nmruby_library = ["lib/raise.rb"]\n' "$CONF"
cli "library: a library that raises is a start-up error with file:line" 78 "$D/lib/raise.rb:2: library failed to load \(RuntimeError\)" -t -c "$CONF"
printf 'def broken(\n' >"$D/lib/raise.rb"
cli "library: a library syntax error is a start-up error" 78 "$D/lib/raise.rb:[12]: syntax error" -t -c "$CONF"
sed -i 's|lib/raise.rb|lib/missing.rb|' "$CONF"
cli "library: a missing library names the key" 78 "$CONF:2: handler.config.mruby_library: cannot read library $D/lib/missing.rb" -t -c "$CONF"

# $~ and $1.. are per VM: a session must not read the previous session's
# captures (issue 11 B16). One VM, so both sessions run on it.
new_site regexp_last_match 'min_worker = 1' 'max_worker = 1'
handler envfrom 'puts "before match: #{[$~, $1, $2, $&, $`, $'"'"', $+].inspect}"
Pmilter::Session.new.envelope_from =~ /<(\w+)@(\w+)/
$~ = nil if $1 == "secret" # $1..$9 stay set: they must still be reset'
start_pmilter "$CONF" || fail "regexp_last_match: start" "$(cat "$PM_ERR")"
mt "regexp: two sessions on a one-VM pool" '
local conn, r = message({from = "<secret@victim>"})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)
conn, r = message({from = "<other@example>"})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)'
n=$(grep -cxF 'before match: [nil, nil, nil, nil, nil, nil, nil]' "$PM_OUT")
if [ "$n" = 2 ] && ! grep -q secret "$PM_OUT"; then pass "regexp: the next session sees \$~ and \$1 as nil, not the last session's captures"
else fail "regexp: the next session sees \$~ and \$1 as nil, not the last session's captures" "$(tr '\n' ' ' <"$PM_OUT")"; fi
stop_clean "regexp_last_match"

# A Regexp cannot be re-initialised (issue 11 A2: this crashed pmilter), and
# 8-bit header bytes never make a regexp raise (A3: this was a tempfail).
new_site regexp_robust
handler envfrom 'r = Regexp.new("a")
m = r.match("xa")
err = begin; r.send(:initialize, "("); "none"; rescue => e; "#{e.class}: #{e.message}"; end
GC.start
puts "reinit: #{err}; #{(r =~ "a").inspect} #{m[0]}"'
handler header 'v = Pmilter::Session::Headers.new.header.values.first
puts "8bit: #{(v =~ /[\W]/).inspect} #{v.scan(/[^\W\d]+/).size} #{v.scan(/[\w\W]/).size} #{v.scan(/\p{L}+/).size}"'
start_pmilter "$CONF" || fail "regexp_robust: start" "$(cat "$PM_ERR")"
mt "regexp: re-initialise in a handler, then an 8-bit header: both continue" '
local conn, r = message({headers = {{"Subject", "Caf\233 na\239ve"}}})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
expect_reply("header", r.header, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "regexp: re-initialising a Regexp raises TypeError and the Regexp still matches" "reinit: TypeError: already initialized regexp; 0 a"
out_has "regexp: [\\W], [^\\W\\d]+, [\\w\\W] and \\p{L} on an 8-bit header value" "8bit: 3 3 10 3"
stop_clean "regexp_robust"

# Oniguruma's memory counts against handler_memory (issue 11 A11): keeping
# thousands of compiled regexps (about 30 KB each in libonig) ends in
# NoMemoryError instead of growing the process; the VM is replaced.
new_site regexp_memory 'handler_memory = 8' 'min_worker = 1' 'max_worker = 1'
handler envfrom 'if Pmilter::Session.new.envelope_from == "<many@x>"
  kept = []
  2000.times { |i| kept << Regexp.new("[[:alpha:]]+ #{i}", "i") }
  puts "kept #{kept.size} regexps"
end
puts "envfrom ok" if "ok" =~ /\Aok\z/'
start_pmilter "$CONF" || fail "regexp_memory: start" "$(cat "$PM_ERR")"
mt "regexp: a handler keeping 2000 compiled regexps under handler_memory = 8 gets NoMemoryError (tempfail)" '
local conn, r = message({from = "<many@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "regexp: the regexp memory error is logged" 'NoMemoryError'
mt "regexp: the next message runs on a fresh VM" '
local conn, r = message({from = "<fine@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "regexp: the fresh VM matches" "envfrom ok"
stop_clean "regexp_memory"
