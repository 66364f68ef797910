# A new MAIL FROM starts from an empty message (session.c end_message, which
# now skips its frees when nothing is left): the message store written at
# HELO or by the previous message's eom is not seen by the next MAIL FROM.
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
new_site message_reset
handler helo 'Pmilter::Session.new.message_store[:x] = "from-helo"'
handler envfrom 'puts "envfrom store=#{Pmilter::Session.new.message_store[:x].inspect}"'
handler eom 's = Pmilter::Session.new
puts "eom store=#{s.message_store[:x].inspect}"
s.message_store[:x] = "from-eom"'
start_pmilter "$CONF" || fail "message_reset: start" "$(cat "$PM_ERR")"
"$CLIENT" --load -s "unix:$SOCK" -c 1 -m 3 -t 0.3 --json >"$D/load.json" 2>&1
n=$(tr -d '\r' <"$PM_OUT" | grep -c '^envfrom store=nil$')
all=$(tr -d '\r' <"$PM_OUT" | grep -c '^envfrom ')
[ "$all" -ge 3 ] && [ "$n" = "$all" ] && pass "message_reset: MAIL FROM never sees the store of HELO or of the last message ($all messages)" ||
    fail "message_reset: MAIL FROM never sees the store of HELO or of the last message" "$(sort "$PM_OUT" | uniq -c | head -5)"
[ "$(tr -d '\r' <"$PM_OUT" | grep -c '^eom store=nil$')" = "$all" ] && pass "message_reset: eom sees only its own message" ||
    fail "message_reset: eom sees only its own message" "$(sort "$PM_OUT" | uniq -c | head -5)"
stop_clean "message_reset"
