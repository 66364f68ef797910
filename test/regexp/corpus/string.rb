# String methods that take a Regexp, and their String-argument behaviour.
#= string match op
p("hello world" =~ /o w/, "hello" =~ /z/)
#= string match op with string raises
begin; "a" =~ "a"; rescue TypeError => e; p e.class; end
#= string match
m = "Message-ID: <abc@host>".match(/<(.+)>/)
p m[1]
#= string match with string pattern
p "a.c abc".match("a.c")[0], "xyz".match("a.c")
#= string match pos
p "aaa".match(/a/, 1).begin(0)
#= string match block
p("id=42".match(/(\d+)/) { |m| m[1].to_i + 1 })
#= string match?
p "spam@example.com".match?(/@example\.com\z/), "x".match?(/y/)
#= sub basic
p "hello world".sub(/o/, "0")
#= gsub basic
p "hello world".gsub(/o/, "0")
#= sub no match returns copy
s = "abc"
r = s.sub(/x/, "y")
p r, r.equal?(s)
#= gsub backrefs
p "John Smith".gsub(/(\w+) (\w+)/, '\2, \1')
#= gsub whole match refs
p "cat".gsub(/a/, '<\0>'), "cat".gsub(/a/, '<\&>')
#= gsub named ref
p "2024-03-09".sub(/(?<y>\d+)-(?<m>\d+)-(?<d>\d+)/, '\k<d>/\k<m>/\k<y>')
#= gsub escaped backslash
p "a.b".gsub(/\./, '\\\\'), "a.b".gsub(/\./, "\\\\\\\\")
#= gsub prematch postmatch refs
p "abc".sub(/b/, "[\\`|\\']")
#= gsub unknown escape kept
p "abc".sub(/b/, '\q\n')
#= gsub numbered ref with named groups is empty
p "ab".sub(/(?<x>a)(b)/, '[\1]')
#= gsub missing group is empty
p "ab".sub(/(a)(x)?/, '[\2][\3]')
#= gsub block
p "hello".gsub(/l/) { |c| c.upcase }
#= gsub block with dollar vars
p "a1 b22 c333".gsub(/([a-z])(\d+)/) { "#{$2.size}#{$1}" }
#= gsub block with last match
p "x=1,y=2".gsub(/(\w)=(\d)/) { $~[1] * $~[2].to_i }
#= gsub block non string result
p "1 2 3".gsub(/\d/) { |d| d.to_i * 10 }
#= gsub hash
p "cat hat bat".gsub(/[chb]at/, "cat" => "dog", "hat" => "cap")
#= sub hash
p "cat hat".sub(/\w+/, "cat" => "kitten")
#= gsub empty pattern
p "abc".gsub(//, "-")
#= gsub empty matches star
p "abc".gsub(/x*/, "-"), "hello".gsub(/l*/, "<\\0>")
#= gsub anchors multiline
p "a\nb\nc".gsub(/^/, "> ")
#= gsub end anchor
p "a\nb\n".gsub(/$/, ";")
#= gsub string pattern unchanged
p "a.b.c".gsub(".", "-"), "a.b".sub(".", "!")
#= gsub dollars after
"aXbXc".gsub(/X/, "-")
p $~ && $~[0], $~ && $~.pre_match
#= sub bang
s = "hello".dup
p s.sub!(/l/, "L"), s, s.sub!(/z/, "Z"), s
#= gsub bang
s = "a-b-c".dup
p s.gsub!(/-/, "+"), s, s.gsub!(/x/, ""), s
#= gsub bang block
s = "abc".dup
s.gsub!(/[ac]/) { |c| c.upcase }
p s
#= gsub bang frozen raises
begin; "abc".freeze.gsub!(/b/, "x"); rescue => e; p e.class; end
#= scan no groups
p "a1b22c333".scan(/\d+/)
#= scan groups
p "k1=v1; k2=v2".scan(/(\w+)=(\w+)/)
#= scan optional group
p "ab a".scan(/(a)(b)?/)
#= scan block
r = []
"x1 y2".scan(/(\w)(\d)/) { |a, b| r << b + a }
p r
#= scan block returns self
s = "abc"
p s.scan(/b/) { }.equal?(s)
#= scan block dollar vars
r = []
"a1 b2".scan(/(\w)(\d)/) { r << $2 + $1 + $~.pre_match.size.to_s }
p r
#= scan empty matches
p "abc".scan(//), "abc".scan(/x*/)
#= scan string pattern is literal
p "a.b.c".scan(".")
#= scan sets last match
"a1 b2 c" .scan(/\d/)
p $~[0], $~.pre_match
#= scan no match clears
"abc" =~ /b/
"abc".scan(/z/)
p $~
#= split regexp
p "a, b,c ,d".split(/\s*,\s*/)
#= split trailing empties removed
p "a,b,,c,,".split(/,/)
#= split negative limit keeps empties
p "a,b,,c,,".split(/,/, -1)
#= split limit
p "a b  c d".split(/\s+/, 2), "a b c".split(/ /, 1), "a b c".split(/ /, 3)
#= split empty pattern
p "abc".split(//), "abc".split(//, 2)
#= split captures included
p "a1b2c".split(/(\d)/), "a-b_c".split(/([-_])/)
#= split empty string
p "".split(/,/), "".split(//)
#= split leading match
p ",a,b".split(/,/), " a b".split(/ /)
#= split star pattern
p "abc".split(/b*/), "aXXbXc".split(/X*/)
#= split case insensitive
p "aXbxc".split(/x/i)
#= split string pattern unchanged
p "a,b,,c".split(","), "a b  c".split(" "), "abc".split("")
#= split no argument
p " a  b ".split
#= index regexp
p "hello world".index(/o/), "hello world".index(/o/, 5), "hello".index(/z/)
#= index negative pos
p "hello world".index(/o/, -4)
#= rindex regexp
p "hello world".rindex(/o/), "hello world".rindex(/o/, 5), "hello".rindex(/z/)
#= rindex at end
p "abcabc".rindex(/c/), "abcabc".rindex(/$/), "abc".rindex(/b/, 1)
#= index sets last match
"a1b2" .index(/(\d)/)
p $1
#= index string unchanged
p "hello".index("l"), "hello".rindex("l"), "hello".index("l", 3)
#= aref regexp
p "Subject: Hello"[/:\s*(.*)/], "Subject: Hello"[/:\s*(.*)/, 1], "abc"[/z/]
#= aref named capture
p "user@host"[/(?<u>\w+)@(?<h>\w+)/, "h"], "user@host"[/(?<u>\w+)@/, :u]
#= slice regexp
p "The quick fox".slice(/q\w+/), "The quick fox".slice(/(\w+) (\w+)/, 2)
#= aref string unchanged
p "hello"[1], "hello"[1, 3], "hello"["ell"], "hello"[1..2], "hello".slice(0)
#= aref sets last match
"abc"[/(b)/]
p $1, $~.post_match
#= start_with regexp
p "Re: hello".start_with?(/re:/i), "Fw: Re: x".start_with?(/re:/i)
#= start_with anchored not search
p "xxabc".start_with?(/abc/)
#= start_with sets last match
"From foo" .start_with?(/(\w+) /)
p $1
#= start_with string unchanged
p "hello".start_with?("he"), "hello".start_with?("x", "h")
#= partition regexp
p "key: value: x".partition(/:\s*/), "novalue".partition(/:/)
#= rpartition regexp
p "a.b.c".rpartition(/\./), "abc".rpartition(/x/)
#= rpartition longest at last position
p "aaa-bbb".rpartition(/-b*/)
#= partition string unchanged
p "a=b=c".partition("="), "a=b=c".rpartition("=")
#= match with symbol subject
p(/ab/ =~ :cab)
