# Regexp class: construction, readers, flags, errors.
#= literal inspect
p(/a(b)c/, /a\/b/, %r{a/b}, /x y/x)
#= literal flags inspect
p(/a/i, /a/m, /a/x, /a/mix)
#= options values
p(/a/.options, /a/i.options, /a/x.options, /a/m.options, /a/mix.options)
#= constants
p(Regexp::IGNORECASE, Regexp::EXTENDED, Regexp::MULTILINE)
#= new with integer flags
r = Regexp.new("ab+c", Regexp::IGNORECASE | Regexp::MULTILINE)
p r, r.options, r.source
#= new with true flag
p Regexp.new("abc", true)
#= new with nil flag
p Regexp.new("abc", nil).options
#= new from regexp
p Regexp.new(/x+/i)
#= compile same as new
p Regexp.compile("a.c") == Regexp.new("a.c")
#= source keeps escapes
p(/a\.b\d/.source, Regexp.new("a/b").source, /\//.source)
#= to_s
p(/a/.to_s, /a/mi.to_s, /a/mix.to_s, /x/x.to_s)
#= to_s with slash
p Regexp.new("a/b").to_s
#= inspect escapes slash
p Regexp.new("a/b"), Regexp.new("a\\/b")
#= inspect newline in source
p Regexp.new("a\nb")
#= equality
p(/a/ == /a/, /a/ == /a/i, /a/ == /b/, /a/.eql?(/a/), /a/ == "a")
#= hash equal for equal regexps
p(/abc/i.hash == Regexp.new("abc", Regexp::IGNORECASE).hash)
#= escape metacharacters
p Regexp.escape("a.b*c?+^$|()[]{}\\")
#= escape whitespace and dash
p Regexp.escape("a b-c\n\t\r#")
#= escape email
p Regexp.escape("john.doe+tag@example.com")
#= quote alias
p Regexp.quote("1+1=2")
#= escape roundtrip
s = "price: $5.00 (approx.) [sale]"
p Regexp.new(Regexp.escape(s)).match?(s)
#= union strings
p Regexp.union("a.b", "c|d")
#= union mixed
p Regexp.union("a.b", /c/i, "d")
#= union empty
p Regexp.union, Regexp.union.match?("anything")
#= union array
p Regexp.union(["spam", "viagra", "lottery"])
#= union single regexp
p Regexp.union(/x/)
#= union matches
re = Regexp.union("free money", "act now", /win+er/i)
p "You are a WINNER".match?(re), "hello" =~ re
#= eqq true false
p(/ab/ === "xaby", /ab/ === "xy", /ab/ === nil, /ab/ === 42)
#= eqq symbol
p(/ab/ === :cab)
#= match op
p(/b/ =~ "abc", /z/ =~ "abc", /b/ =~ nil)
#= match with pos
p(/a/.match("banana", 2), /a/.match("banana", 2).begin(0))
#= match with negative pos
p(/a/.match("banana", -2).begin(0))
#= match pos beyond end
p(/a/.match("banana", 10))
#= match nil
p(/a/.match(nil))
#= match with block
r = /(\d+)/.match("order 1234") { |m| m[1].to_i * 2 }
p r
#= match block not called on failure
p(/(\d+)/.match("none") { |m| raise "called" })
#= match? does not set last match
"zzz" =~ /z/
/a/.match?("abc")
p $~[0]
#= match? with pos
p(/a/.match?("ab", 1), /b/.match?("ab", 1))
#= names
p(/(?<user>\w+)@(?<host>\w+)/.names, /(a)(b)/.names)
#= names order
p(/(?<z>a)(?<a>b)(?<m>c)/.names)
#= error unmatched paren
begin; Regexp.new("("); rescue RegexpError => e; p e.class, e.message; end
#= error close paren
begin; Regexp.new("a)"); rescue RegexpError => e; p e.message; end
#= error bad range
begin; Regexp.new("[b-a]"); rescue RegexpError => e; p e.message; end
#= reversed interval is accepted
begin; p "aaa"[Regexp.new("a{2,1}")]; rescue RegexpError => e; p e.message; end
#cruby p "aa"
#= error bad repeat
begin; Regexp.new("a{2"); p "aa{2"[Regexp.new("a{2")]; rescue RegexpError => e; p e.message; end
#= error undefined name
begin; Regexp.new("(?<n>a)\\k<m>"); rescue RegexpError => e; p e.message; end
#= error invalid backref
begin; Regexp.new("(a)\\2"); rescue RegexpError => e; p e.message; end
#= error target of repeat
begin; Regexp.new("*a"); rescue RegexpError => e; p e.message; end
#= error premature end of class
begin; Regexp.new("[abc"); rescue RegexpError => e; p e.message; end
#= regexp error is standard error
p RegexpError.ancestors.include?(StandardError)
#= last_match
"foo bar" =~ /(o+) (b)/
p Regexp.last_match(0), Regexp.last_match(1), Regexp.last_match.class
#= literal in loop same object
a = []
3.times { a << /loop/ }
p a[0].equal?(a[1]), a[1].equal?(a[2])
#= literal frozen
p(/abc/.frozen?)
#= dynamic regexp interpolation
w = "wor"
p(/hel+o #{w}ld/ =~ "say hello world", /#{Regexp.escape("a.b")}/.source)
#= extended mode comments
re = /(\d{3}) # area
      -(\d{4}) # number
     /x
p re.match("call 555-1234")[2]
