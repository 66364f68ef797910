# A Regexp's program lives as long as the object, and nothing reaches freed or
# missing memory (issue 11 A2). Run under ASan by `make asan-test`.
def raises(klass)
  yield
  nil
rescue Exception => e
  e.class == klass ? e.message : "#{e.class}: #{e.message}"
end

check("re-initialising with a bad pattern is refused; the Regexp still matches") do
  r = Regexp.new("a")
  msg = raises(TypeError) { r.send(:initialize, "(") }
  [msg == "already initialized regexp" && (r =~ "xa") == 1 && r.source == "a", "#{msg.inspect} #{(r =~ "xa").inspect}"]
end

check("re-initialising with a good pattern is refused too") do
  r = Regexp.new("a")
  msg = raises(TypeError) { r.send(:initialize, "b") }
  [msg == "already initialized regexp" && r.source == "a" && !r.match?("b"), msg.inspect]
end

check("a MatchData outlives a refused re-initialise and a GC") do
  r = Regexp.new("(?<w>b+)")
  m = r.match("abbc")
  r.send(:initialize, "(") rescue nil
  r = nil
  GC.start
  [m[:w] == "bb" && m.names == ["w"] && m.inspect == '#<MatchData "bb" w:"bb">' && m.regexp.source == "(?<w>b+)", m.inspect]
end

check("a MatchData keeps its Regexp alive when nothing else does") do
  ms = (1..50).map { |i| Regexp.new("(?<n>#{i})(?<x>x*)").match("a#{i}xx") }
  GC.start
  [ms.each_with_index.all? { |m, i| m[:n] == (i + 1).to_s && m[2] == "xx" && m.regexp.names == ["n", "x"] }, ms[0].inspect]
end

check("a failed first initialize leaves an object that can still be initialised") do
  r = Regexp.allocate
  msg = raises(RegexpError) { r.send(:initialize, "(") }
  a = raises(TypeError) { r =~ "a" }
  r.send(:initialize, "b+")
  [msg && a == "uninitialized Regexp" && r.match("abb")[0] == "bb", "#{msg.inspect} #{a.inspect}"]
end

check("an uninitialised Regexp raises TypeError from every method") do
  r = Regexp.allocate
  bad = %i[source options inspect to_s names hash ==].reject { |m| raises(TypeError) { r.send(m, *(m == :== ? [/a/] : [])) } }
  bad += %i[source].reject { |m| raises(TypeError) { r.send(m) } }
  bad += %i[match =~ === match?].reject { |m| raises(TypeError) { r.send(m, "a") } }
  [bad.empty? && raises(TypeError) { "abc".sub(r, "x") } && (/a/ == r) == false, bad.inspect]
end

check("dup and clone compile a program of their own") do
  r = /x(y)/i
  d = r.dup
  c = r.clone
  ok = d.match("XY")[1] == "Y" && c.match("xy")[1] == "y" && !d.frozen? && c.frozen? && d == r && c.source == "x(y)"
  [ok && raises(TypeError) { c.send(:initialize_copy, /z/) } && raises(TypeError) { d.send(:initialize_copy, 1) }, d.inspect]
end

check("MatchData dup keeps the captures; an uninitialised MatchData raises TypeError") do
  m = /(?<b>b)(?<c>c)?/.match("abd")
  d = m.dup
  GC.start
  u = MatchData.allocate
  bad = %i[to_a captures pre_match post_match size to_s string regexp inspect names named_captures].reject { |x| raises(TypeError) { u.send(x) } }
  bad += [:[], :begin, :end, :offset].reject { |x| raises(TypeError) { u.send(x, 0) } }
  [d.to_a == ["b", "b", nil] && d.pre_match == "a" && d.regexp == m.regexp && bad.empty?, bad.inspect]
end

check("a literal cannot be re-initialised (frozen)") do
  [raises(FrozenError) { /lit/.send(:initialize, "other") } && /lit/.source == "lit", "not refused"]
end
