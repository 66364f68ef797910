# Prelude of the generated differential test (run by both CRuby and the
# runner): a `p` whose output is the same in both, since mruby's String#inspect
# escapes every non-ASCII byte and CRuby's prints UTF-8 as is.
def __show(x)
  case x
  when String
    out = [34]
    x.each_byte do |b|
      case b
      when 34, 92 then out << 92 << b
      when 10 then out << 92 << 110
      when 9 then out << 92 << 116
      when 13 then out << 92 << 114
      when 0...32, 127 then format("\\x%02X", b).each_byte { |c| out << c }
      else out << b
      end
    end
    (out << 34).pack("C*")
  when Array then "[" + x.map { |e| __show(e) }.join(", ") + "]"
  when Hash then "{" + x.map { |k, v| __show(k) + "=>" + __show(v) }.join(", ") + "}"
  when Symbol then ":" + x.to_s
  when MatchData
    names = x.names
    parts = [__show(x[0])]
    (1...x.size).each { |i| parts << "#{names.empty? ? i : names[i - 1]}:#{__show(x[i])}" }
    "#<MatchData " + parts.join(" ") + ">"
  else x.inspect
  end
end

def p(*a)
  a.each { |x| puts __show(x) }
  a.size <= 1 ? a[0] : a
end
