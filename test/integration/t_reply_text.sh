# Reply texts as the MTA receives them (docs/api.md, set_reply): '%' reaches
# the MTA doubled in single- and multi-line replies (Sendmail reads the text
# as a format, Postfix drops a lone '%'), and a line longer than libmilter
# accepts raises ArgumentError in the handler instead of silently leaving
# the MTA's default text.
new_site reply_text
handler envrcpt 's = Pmilter::Session.new
case s.envelope_to
when "<one@x>" then s.reject!("100% spam")
when "<two@x>" then s.set_reply("550", "5.7.1", "100% spam", "50%% sure"); s.reject!
when "<long@x>" then s.reject!("a" * 981)
when "<longpct@x>" then s.set_reply("450", nil, "ok", "%" * 491); s.tempfail!
end'
start_pmilter "$CONF" || fail "reply text: start" "$(cat "$PM_ERR")"
# rawclient prints "y TEXT": the reply code frame's text as it went out.
reply_of() { python3 test/integration/rawclient.py "unix:$SOCK" "neg;conn4:h:127.0.0.1;helo:h;mail:<a@x>;rcpt:$1;quit" 2>&1 | tr -d '\r'; }
got=$(reply_of "<one@x>")
if grep -qxF 'y 550 5.7.1 100%% spam' <<<"$got"; then pass "reply text: single line '%' goes out as '%%'"
else fail "reply text: single line '%' goes out as '%%'" "$(tr '\n' '|' <<<"$got")"; fi
got=$(reply_of "<two@x>")
if grep -qxF 'y 550-5.7.1 100%% spam' <<<"$got" && grep -qxF '550 5.7.1 50%%%% sure' <<<"$got"; then
    pass "reply text: multi-line '%' goes out as '%%' on every line"
else fail "reply text: multi-line '%' goes out as '%%' on every line" "$(tr '\n' '|' <<<"$got")"; fi
got=$(reply_of "<long@x>")
if grep -qx 't ' <<<"$got"; then pass "reply text: a 981-byte line gives handler_error (tempfail)"
else fail "reply text: a 981-byte line gives handler_error (tempfail)" "$(tr '\n' '|' <<<"$got")"; fi
log_has "reply text: the over-long line raised ArgumentError at set_reply" \
    "reply line 1 is 981 bytes .*libmilter's limit is 980 \(ArgumentError\)"
got=$(reply_of "<longpct@x>")
if grep -qx 't ' <<<"$got"; then pass "reply text: a line of 491 '%' (982 escaped) gives tempfail"
else fail "reply text: a line of 491 '%' (982 escaped) gives tempfail" "$(tr '\n' '|' <<<"$got")"; fi
log_has "reply text: the escaped length is what counts" "reply line 2 is 982 bytes"
stop_clean "reply text"
