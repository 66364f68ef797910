# OpenDKIM + OpenDMARC + an SPF policy daemon, as one eom handler (docs/auth.md).
# Outgoing (the client authenticated, OpenDKIM's Mode s): sign with the key of
# the sender's domain (its SigningTable). Incoming (Mode v): drop forged
# Authentication-Results (OpenDKIM/OpenDMARC's AuthservID), add ours, and apply
# the sender's DMARC policy (OpenDMARC's RejectFailures true).
SIGNING_TABLE = { "example.com" => ["2026", "main"] } # domain => [selector, [dkim.keys] name]

s = Pmilter::Session.new
if s.macro("{auth_authen}") != ""
  domain = s.mail_addr.split("@").last.to_s.downcase
  selector, key = SIGNING_TABLE[domain]
  s.dkim_sign(domain: domain, selector: selector, key: key) if key
else
  s.remove_forged_authentication_results
  Pmilter::Session::Headers.new.insert(0, "Authentication-Results", s.authentication_results)
  d = s.dmarc
  if d.result == "fail" && d.policy == "reject"
    s.reject!("rejected by DMARC policy of #{d.from_domain}")
  elsif d.result == "fail" && d.policy == "quarantine"
    s.quarantine("DMARC policy of #{d.from_domain}")
  elsif d.result == "temperror"
    s.tempfail!("DMARC lookup failed, try again later")
  end
end
