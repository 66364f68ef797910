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

# A phase without a handler whose facts a handler reads (envelope_to at eom)
# is sent by the MTA without a reply round trip (SMFIP_NR_*), not switched off.
new_site facts
handler eom 's = Pmilter::Session.new
puts "eom ip=#{s.client_ipaddr} helo=#{s.helo_hostname} from=#{s.envelope_from} to=#{s.envelope_to}"'
start_pmilter "$CONF" || fail "facts: start" "pmilter did not start"
mt "facts: fact phases are negotiated without replies, the rest are off" '
local conn = connect()
assert(mt.negotiate(conn, nil, nil, nil) == nil)
for name, opt in pairs({connect = SMFIP_NR_CONN, helo = SMFIP_NR_HELO, mail = SMFIP_NR_MAIL, rcpt = SMFIP_NR_RCPT,
                        hdrs = SMFIP_NOHDRS, body = SMFIP_NOBODY, eoh = SMFIP_NOEOH, data = SMFIP_NODATA}) do
  expect(name .. " was not negotiated as expected", mt.test_option(conn, opt))
end
for name, opt in pairs({connect = SMFIP_NOCONNECT, helo = SMFIP_NOHELO, mail = SMFIP_NOMAIL, rcpt = SMFIP_NORCPT}) do
  expect(name .. " is switched off although eom reads its facts", not mt.test_option(conn, opt))
end
mt.disconnect(conn)'
mt "facts: an eom-only handler sees client, HELO and envelope" '
local conn = connect()
assert(mt.conninfo(conn, "client.example", "192.0.2.55") == nil)
assert(mt.helo(conn, "helo.example") == nil)
assert(mt.mailfrom(conn, "<alice@example.com>") == nil)
assert(mt.rcptto(conn, "<bob@example.org>") == nil)
assert(mt.eom(conn) == nil)
expect_reply("eom", mt.getreply(conn), SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "facts: the eom handler printed every fact" "eom ip=192.0.2.55 helo=helo.example from=<alice@example.com> to=<bob@example.org>"
stop_clean "facts"
