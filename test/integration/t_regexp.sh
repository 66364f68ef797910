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
