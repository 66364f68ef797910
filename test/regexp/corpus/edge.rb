# Anchors, quantifiers, backreferences, lookaround and empty matches.
#= caret dollar across newlines
s = "first\nsecond\nthird"
p s.scan(/^\w+$/), s =~ /^second$/
#= backslash A z Z
s = "line1\nline2\n"
p s =~ /\Aline1/, s =~ /\Aline2/, s =~ /line2\z/, s =~ /line2\Z/
#= dollar before final newline
p "abc\n" =~ /c$/, "abc\n".sub(/$/, "!")
#= dot does not match newline without m
p "a\nb" =~ /a.b/, "a\nb" =~ /a.b/m
#= m flag greedy across lines
p "<a>\n<b>"[/<.*>/m], "<a>\n<b>"[/<.*>/]
#= greedy vs lazy
p "<b>x</b><b>y</b>"[/<b>.*<\/b>/], "<b>x</b><b>y</b>"[/<b>.*?<\/b>/]
#= lazy plus and question
p "aaa"[/a+?/], "aaa"[/a??/], "aaa"[/a{2,}?/]
#= possessive and atomic
p "aaa" =~ /a++a/, "aaa" =~ /(?>a+)a/, "aaa" =~ /a+a/
#= backreference
p "hello" =~ /(l)\1/, "abcabc"[/(abc)\1/], "abab ab"[/(\w+) \1/]
#= named backreference
p "say hi hi there"[/(?<w>\w+) \k<w>/]
#= case insensitive backreference
p "Abc aBC" =~ /(abc) \1/i
#= lookahead
p "price: 100USD 200EUR".scan(/\d+(?=EUR)/), "foobar foobaz".scan(/foo(?!bar)/).size
#= lookbehind
p "USD100 EUR200".scan(/(?<=EUR)\d+/), "a1 b2".scan(/(?<!a)\d/)
#= alternation order
p "abc"[/ab|abc/], "abc"[/abc|ab/]
#= optional and counted
p "color colour".scan(/colou?r/), "aaaa"[/a{2,3}/], "aaaa"[/a{,2}/]
#= character classes
p "a-b_c.d"[/[\w.-]+/], "x]y"[/[\]]/], "a^b"[/[\^]/]
#= negated class with newline
p "ab\ncd".scan(/[^\n]+/)
#= hex and escapes
p "tab\there" =~ /\t/, "\x41" =~ /\x41/, "a\u00e9" =~ /\u00e9/
#= hex class h
p "ff 1a g0".scan(/\h+/)
#= non capturing group
p "abab".match(/(?:ab)+/)[0], "abab".match(/(?:ab)+/).size
#= inline options
p "ABC" =~ /(?i)abc/, "ABC" =~ /a(?i:b)c/i, "aBc" =~ /a(?i:b)c/
#= nested groups numbering
m = /((a)(b(c)))/.match("abc")
p m.to_a
#= empty regexp
p "abc" =~ //, "" =~ //, "".scan(//)
#= empty string subject
p "" =~ /a*/, "".sub(/^/, "x"), "".gsub(/x*/, "-")
#= gsub empty match after match
p "abc".gsub(/b*/, "-")
#= scan overlapping not found
p "aaaa".scan(/aa/)
#= split with lookahead
p "CamelCaseString".split(/(?=[A-Z])/)
#= gsub with lookbehind digits grouping
p "1234567".gsub(/(\d)(?=(\d{3})+$)/, '\1,')
#= quantified group last capture
p "abcd".match(/(?:(\w))+/)[1]
#= unmatched alternative group nil
m = /(a)|(b)/.match("b")
p m[1], m[2], m.begin(1)
#= gsub block position independent
i = 0
p "aaa".gsub(/a/) { i += 1; i.to_s }
#= nested quantifier safe input
p "aaaa" =~ /(a+)+$/
#= sub with newline in replacement
p "a b".sub(/ /, "\n")
#= grep with regexp
p %w[apple banana cherry].grep(/an/)
#= select with match
p %w[x1 y z2].select { |w| w =~ /\d/ }
#= dollar tilde in block param independent
r = %w[a1 b2].map { |w| w =~ /(\d)/; $1 }
p r
#= long subject scan count
s = "word " * 2000
p s.scan(/\w+/).size, s.gsub(/o/, "0").count("0")
#= long subject split
p ("a,b;" * 500).split(/[,;]/).size
#= non word class outside and inside brackets
p "a-é_b!".scan(/\W/), "a-é_b!".scan(/[\W_]/), "ab-é".scan(/[^\W]/)
#= word class inside brackets with other members
p "user.name+tag@ex-ample.com"[/[\w.+-]+@[\w-]+/]
#= unicode escape braces
p "aé日b".scan(/\u{65e5}|\u00e9/), "ab" =~ /\u{61 62}/, "x日本y"[/[\u{3040}-\u{9fff}]+/]
#= escaped backslash before w
p "a\\wb"[/\\w/], "[w]"[/[\\w]+/]
#= posix bracket with w nearby
p "ab1_ é".scan(/[[:alpha:]\w]+/)
#= extended comment with bracket
re = /a # not a [class
      b/x
p "ab" =~ re
