# test/kv's handler (envfrom): the sender's local part names what to do.
kv = Pmilter::KV
cmd = Pmilter::Session.new.envelope_from.sub("<", "").split("@")[0]
case cmd
when "calls"
  kv.delete("a")
  puts "set=#{kv.set("a", "1")}"
  puts "get=#{kv.get("a").inspect}"
  puts "add-existing=#{kv.add("a", "x", ttl: 10)} get=#{kv.get("a").inspect}"
  puts "add-new=#{kv.add("b", 5, ttl: 10)} get=#{kv.get("b").inspect} ttl=#{kv.ttl("b")}"
  puts "incr=#{kv.incr("a")} #{kv.incr("a", 10)} #{kv.incr("a", -2)}"
  puts "incr-new=#{kv.incr("c", 2, ttl: 30)} #{kv.incr("c", 2, ttl: 5)} ttl=#{kv.ttl("c")}"
  puts "ttl-none=#{kv.ttl("a").inspect} ttl-absent=#{kv.ttl("zz").inspect}"
  puts "expire=#{kv.expire("a", 100)} ttl=#{kv.ttl("a")} expire-absent=#{kv.expire("zz", 5)}"
  puts "mget=#{kv.mget("a", "zz", "b").inspect}"
  puts "delete=#{kv.delete("a")} #{kv.delete("a")} get=#{kv.get("a").inspect}"
  kv.set("d", "text")
  begin
    kv.incr("d")
  rescue Pmilter::KV::Error
    puts "incr-text=Pmilter::KV::Error"
  end
  errs = [-> { kv.incr("e", foo: 1) }, -> { kv.incr("e", ttl: 5, foo: 1) }, -> { kv.incr("e", 1, 2) },
          -> { kv.incr }, -> { kv.rate_limit("e", 5) }, -> { kv.rate_limit("e", 5, per: 60, x: 1) },
          -> { kv.set("e", "v", tll: 5) }].map do |f|
    begin
      f.call
      "none"
    rescue ArgumentError
      "ArgumentError"
    end
  end
  puts "kwargs-bad=#{errs.join(",")} e=#{kv.get("e").inspect}"
  puts "kwargs-ok=#{kv.incr(:sym, ttl: 9)} #{kv.incr("sym", 2)} ttl=#{kv.ttl("sym")} " \
       "#{kv.rate_limit("rl2", 1.0, per: 60)} #{kv.rate_limit("rl2", 1, per: 60)} #{kv.incr("h", {ttl: 5}) rescue "TypeError"}"
  lead = ["007", "-0", " 5", "+5", "0"].map do |v|
    kv.set("z", v)
    begin
      kv.incr("z")
    rescue Pmilter::KV::Error
      "Error"
    end
  end
  puts "not-integers=#{lead.join(",")}"
  begin
    kv.set("d", 1.5)
  rescue TypeError
    puts "float=TypeError"
  end
when "inc" then 1000.times { kv.incr("n") }
when "read" then puts "n=#{kv.get("n")}"
when "add" then puts "add=#{kv.add("once", "x", ttl: 60)}"
when "ttl"
  v = kv.get("t")
  puts "t=#{v.inspect}"
  kv.set("t", "x", ttl: 2) unless v
when "lru"
  3000.times { |i| kv.set("k#{i}", "v" * 1000) }
  kept = kv.mget(*(0...3000).map { |i| "k#{i}" }).compact.size
  puts "lru newest=#{kv.get("k2999") ? "kept" : "lost"} oldest=#{kv.get("k0") ? "kept" : "evicted"}"
  puts "lru bound=#{kept > 100 && kept * 1064 <= 1048576 ? "ok" : "exceeded: #{kept} keys"}"
when "setr" then kv.set("r", "kept")
when "getr" then puts "r=#{kv.get("r").inspect}"
when "rl" then Pmilter.status = Pmilter::SMFIS_TEMPFAIL unless kv.rate_limit("rl", 100, per: 60)
when "ping" then puts "ping=#{kv.incr("ping")}"
when "ping-in-method" # the error's text then ends with its callers
  def bump(kv)
    kv.incr("ping")
  end
  puts "ping=#{bump(kv)}"
when "rescue"
  begin
    puts "rescue=#{kv.incr("ping")}"
  rescue Pmilter::KV::Error => e
    puts "rescue=#{e.class}"
  end
end
