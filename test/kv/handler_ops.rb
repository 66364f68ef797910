# test/kv/t_redis_ops.sh's handler (envfrom): calls whose commands Redis counts.
kv = Pmilter::KV
case Pmilter::Session.new.envelope_from.sub("<", "").split("@")[0]
when "setup"
  kv.set("a", "1")
  kv.set("bin", "nul\0and\r\nCRLF")
  kv.set("k" * 10000, "long key")
  kv.set("sp ace", 2)
when "mget"
  puts "mget=#{kv.mget("a", "absent", "bin", "k" * 10000, "sp ace").inspect}"
  puts "mget-none=#{kv.mget.inspect}"
  puts "mget-many=#{kv.mget(*(1..200).map { |i| "m#{i}" }).compact.size}"
when "mget-bad"
  begin
    kv.mget("a", 5)
  rescue TypeError => e
    puts "mget-bad=#{e.class}"
  end
when "incr"
  puts "incr=#{kv.incr("cnt", ttl: 30)} #{kv.incr("cnt", 2, ttl: 30)} ttl=#{kv.ttl("cnt")}"
  puts "incr-min=#{kv.incr("min", -(2**62) * 2, ttl: 5)}"
  puts "incr-max=#{kv.incr("max", 2**62 - 1 + 2**62, ttl: 5)}"
when "down"
  begin
    kv.mget("a", "b")
  rescue Pmilter::KV::Error => e
    puts "mget-down=#{e.class}"
  end
end
