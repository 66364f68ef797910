# reads: none; =~, ===, !~, case/when, match?, match, gsub, scan
s = "Subject: hello"
p(s =~ /hello/, /x/ === s, s !~ /y/, s.match?(/h/))
case s
when /\A\d/ then p 1
when /hello/ then p 2
end
m = /(\w+): (\w+)/.match(s)
p m[1], m.pre_match, s.gsub(/(l+)/, "<\\1>"), s.scan(/l/), s.sub(/h/) { |x| x.upcase }
