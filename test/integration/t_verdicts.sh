# Every verdict a handler can set reaches the MTA as the matching reply.
new_site verdicts
handler envfrom '
case Pmilter::Session.new.envelope_from
when "<reject@x>"   then Pmilter.status = Pmilter::SMFIS_REJECT
when "<tempfail@x>" then Pmilter.status = Pmilter::SMFIS_TEMPFAIL
when "<accept@x>"   then Pmilter.status = Pmilter::SMFIS_ACCEPT
when "<discard@x>"  then Pmilter.status = Pmilter::SMFIS_DISCARD
when "<garbage@x>"  then Pmilter.status = 42
when "<noreply@x>"  then Pmilter.status = Pmilter::SMFIS_NOREPLY
end'
start_pmilter "$CONF" || fail "verdicts: start" "pmilter did not start"
for v in reject:REJECT tempfail:TEMPFAIL accept:ACCEPT discard:DISCARD; do
    mt "verdicts: Pmilter.status = SMFIS_${v#*:} answers ${v%:*}" "
local conn, r = message({from = '<${v%:*}@x>'})
expect_reply('envfrom', r.envfrom, SMFIR_${v#*:})
mt.disconnect(conn)"
done
mt "verdicts: no status set means continue, through eom" '
local conn, r = message({from = "<plain@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
expect_reply("eom", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
mt "verdicts: SMFIS_NOREPLY (never negotiated) answers continue" '
local conn, r = message({from = "<noreply@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)'
mt "verdicts: a status that is no SMFIS_* value answers tempfail" '
local conn, r = message({from = "<garbage@x>"})
expect_reply("envfrom", r.envfrom, SMFIR_TEMPFAIL)
mt.disconnect(conn)'
log_has "verdicts: the bad status is logged with file:line" "handler/envfrom.rb:7(:in status=)?: Pmilter.status= 42 is not a Pmilter::SMFIS_\* value \(ArgumentError\)"
mt "verdicts: status starts at continue in every callback" '
local conn, r = message({from = "<reject@x>"})
expect_reply("envfrom 1", r.envfrom, SMFIR_REJECT)
local conn2, r2 = message({conn = conn, from = "<plain@x>"})
expect_reply("envfrom 2 on the same connection", r2.envfrom, SMFIR_CONTINUE)
mt.disconnect(conn)'
stop_clean "verdicts"

# Only the phases with a handler are negotiated; the others cost the MTA nothing.
new_site negotiate
handler envfrom 'x = 1'
handler eom 'x = 2'
start_pmilter "$CONF" || fail "negotiate: start" "pmilter did not start"
mt "negotiate: phases without a handler are switched off" '
local conn = connect()
assert(mt.negotiate(conn, nil, nil, nil) == nil)
for name, opt in pairs({connect = SMFIP_NOCONNECT, helo = SMFIP_NOHELO, rcpt = SMFIP_NORCPT, hdrs = SMFIP_NOHDRS,
                        eoh = SMFIP_NOEOH, body = SMFIP_NOBODY, unknown = SMFIP_NOUNKNOWN, data = SMFIP_NODATA}) do
  expect(name .. " is negotiated although it has no handler", mt.test_option(conn, opt))
end
expect("MAIL is switched off although it has a handler", not mt.test_option(conn, SMFIP_NOMAIL))
expect("the add-header action was not requested", mt.test_action(conn, SMFIF_ADDHDRS))
expect("the change-sender action was not requested", mt.test_action(conn, SMFIF_CHGFROM))
mt.disconnect(conn)'
stop_clean "negotiate"
