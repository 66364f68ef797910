# bench: reject one sender at MAIL FROM, as bench/baseline.c does
if Pmilter::Session.new.envelope_from == "<spam-from@example.com>"
  Pmilter.status = Pmilter::SMFIS_REJECT
end
