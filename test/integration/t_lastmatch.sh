# =~ without the last-match state (issue 18): a config whose libraries and
# handlers never read $~, $1.. lets =~, === and case/when match without a
# MatchData; one where ANY of them reads it keeps it for all (the decision
# is per config generation, made when the scripts are compiled).

# Only the library reads $1: the handler that matches does not.
new_site lastmatch_library 'min_worker = 1' 'max_worker = 1'
mkdir -p "$D/lib"
printf 'def captured_user\n  $1\nend\n' >"$D/lib/capture.rb"
sed -i '/^\[server\]/i [handler.config]\nmruby_library = ["lib/capture.rb"]\n' "$CONF"
handler envfrom 'puts "keeps=#{Regexp.__keeps_last_match}"
puts "user=#{captured_user}" if Pmilter::Session.new.envelope_from =~ /<(\w+)@/'
start_pmilter "$CONF" || fail "lastmatch_library: start" "$(cat "$PM_ERR")"
mt "lastmatch: a message through a handler whose library reads \$1" '
local conn, r = message({from = "<taro@example.jp>"})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "lastmatch: a library reading \$1 keeps the state for the whole config" "keeps=true"
out_has "lastmatch: \$1 set by the handler's =~ is read in the library" "user=taro"
stop_clean "lastmatch_library"

# Nobody reads it: =~, ===, !~ and case/when still answer as before.
new_site lastmatch_none 'min_worker = 1' 'max_worker = 1'
handler envfrom 'f = Pmilter::Session.new.envelope_from
k = case f
    when /\A<postmaster@/ then "pm"
    when /@example\.jp>\z/ then "jp"
    else "other"
    end
puts "keeps=#{Regexp.__keeps_last_match} pos=#{(f =~ /@/).inspect} miss=#{(f =~ /zzz/).inspect} eqq=#{/taro/ === f} nomatch=#{f !~ /zzz/} kind=#{k}"'
handler eom 'puts "eom keeps=#{Regexp.__keeps_last_match}"'
start_pmilter "$CONF" || fail "lastmatch_none: start" "$(cat "$PM_ERR")"
mt "lastmatch: a message through handlers that never read \$~" '
local conn, r = message({from = "<taro@example.jp>"})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "lastmatch: without readers, =~ / === / !~ / case-when give the same answers, no state kept" \
    "keeps=false pos=5 miss=nil eqq=true nomatch=true kind=jp"

# A reload whose new eom handler reads $~: the new generation keeps it.
printf 'Pmilter::Session.new.envelope_from =~ /@(\\w+)/\nputs "eom keeps=#{Regexp.__keeps_last_match} domain=#{$~[1]}"\n' >"$D/handler/eom.rb.new"
mv "$D/handler/eom.rb.new" "$D/handler/eom.rb"
reloads() { grep -c 'reloaded .*new sessions use it' "$PM_ERR"; }
before=$(reloads)
kill -USR1 "$PM_PID"
more_reloads() { [ "$(reloads)" -gt "$before" ]; }
wait_for more_reloads || fail "lastmatch: reload" "$(tail -2 "$PM_ERR" | tr '\n' ' ')"
mt "lastmatch: a message after the reload" '
local conn, r = message({from = "<taro@example.jp>"})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "lastmatch: before the reload the eom handler ran without the state" "eom keeps=false"
out_has "lastmatch: after a reload to a handler reading \$~, the new generation keeps it" "eom keeps=true domain=example"
stop_clean "lastmatch_none"
