# test/metrics' envfrom handler: the sender's local part says what to do.
cmd = Pmilter::Session.new.envelope_from.sub("<", "").split("@")[0]
case cmd
when "bad" then
  Pmilter::Metrics.counter("spam_rules_total", rule: "bad_subject").inc
  Pmilter::Session.new.reject!
when "boom" then raise "boom"
when "badname" then Pmilter::Metrics.counter("bad-name").inc
when "negative" then Pmilter::Metrics.counter("spam_rules_total", rule: "neg").inc(-1)
when /\Acard/ then Pmilter::Metrics.counter("per_sender_total", sender: cmd).inc
when "gauge" then
  Pmilter::Metrics.gauge("queue_depth", queue: "q \"1\"").set(7)
  Pmilter::Metrics.gauge("queue_depth", queue: "q \"1\"").dec(2)
  Pmilter::Metrics.histogram("score", {}).observe(0.003)
  Pmilter::Metrics.histogram("score").observe(3)
end
