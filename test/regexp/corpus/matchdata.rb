# MatchData and the last-match globals.
#= index access
m = /(\w+)@(\w+)\.com/.match("to: bob@example.com")
p m[0], m[1], m[2], m[3]
#= negative index
m = /(a)(b)(c)/.match("xabcx")
p m[-1], m[-2], m[-4], m[-5]
#= index with length and range
m = /(a)(b)(c)/.match("xabcx")
p m[1, 2], m[0..1]
#= named access string and symbol
m = /(?<user>[^@]+)@(?<domain>.+)/.match("alice@mail.example.org")
p m["user"], m[:domain]
#= named undefined raises
m = /(?<user>\w+)/.match("x")
begin; m[:nope]; rescue IndexError => e; p e.class, e.message; end
#= captures
p(/(\d+)-(\d+)-(\d+)/.match("2024-01-15").captures)
#= captures with unmatched group
p(/(a)|(b)/.match("b").captures)
#= named_captures
p(/(?<y>\d{4})-(?<m>\d\d)/.match("on 2023-07-04").named_captures)
#= named_captures unmatched
p(/(?<a>x)?(?<b>y)/.match("y").named_captures)
#= names
p(/(?<a>x)(?<b>y)/.match("xy").names)
#= pre and post match
m = /=/.match("key=value=x")
p m.pre_match, m.post_match
#= begin end offset
m = /(b+)(c)?/.match("aabbbd")
p m.begin(0), m.end(0), m.begin(1), m.end(1), m.offset(1), m.begin(2), m.offset(2)
#= begin by name
m = /(?<word>\w+)$/.match("one two")
p m.begin(:word), m.end("word"), m.offset(:word)
#= begin out of range
m = /a/.match("a")
begin; m.begin(3); rescue IndexError => e; p e.class, e.message; end
#= to_a
p(/(.)(.)(\d+)(\d)/.match("THX1138.").to_a)
#= values_at
m = /(.)(.)(\d+)(\d)/.match("THX1138: The Movie")
p m.values_at(0, 2, -2)
#= size length
m = /(a)(b)?/.match("a")
p m.size, m.length
#= to_s and string
m = /b+/.match("abbbc")
p m.to_s, m.string, m.string.frozen?
#= regexp
p(/x(y)/.match("xy").regexp)
#= inspect ascii
puts(/(\w)(?:-)(\d)?/.match("a-").inspect)
#= inspect named
puts(/(?<first>\w+) (?<last>\w+)/.match("Ada Lovelace").inspect)
#= string is a snapshot
s = "hello world".dup
m = /world/.match(s)
s << "!!!"
p m.string, m.post_match
#= dollar tilde after match op
"subject: hi" =~ /(\w+): (\w+)/
p $~[0], $1, $2, $3
#= dollar amp prematch postmatch
"From: a@b.c (x)" =~ /\S+@\S+/
p $&, $`, $'
#= dollar plus
"ab" =~ /(a)(x)?/
p $+
"ab" =~ /(a)(b)?/
p $+
#= globals cleared after failed match
"abc" =~ /(b)/
"abc" =~ /(z)/
p $~, $1, $&, $`, $'
#= globals after match method
/(\d+)/.match("x 42 y")
p $1, $~.pre_match
#= globals after eqq in case
case "Received: from mx.example.net"
when /^From:/ then p :from
when /^Received: from (\S+)/ then p $1
end
#= case when fallthrough clears
r = case "nothing here"
    when /\d/ then :digit
    else $~
    end
p r
#= nth ref up to nine
"abcdefghi" =~ /(a)(b)(c)(d)(e)(f)(g)(h)(i)/
p [$1, $5, $9]
#= last match via method
"k=v" =~ /(\w)=(\w)/
p Regexp.last_match(2), Regexp.last_match.pre_match
#= index name priority last match of duplicate
m = /(?<x>a)|(?<x>b)/.match("b")
p m[:x]
