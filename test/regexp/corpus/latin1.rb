# 8-bit subjects that are not valid UTF-8 (raw Latin-1 headers). pmilter reads
# them as ISO-8859-1 (docs/regexp.md); CRuby raises on a broken UTF-8 string,
# so its "#cruby" lines run the same code on the subject tagged ISO-8859-1.
#= W in a class
s = "caf\xE9 na\xEFve 1a"
p s =~ /[\W]/, s.scan(/[^\W\d]+/), s.scan(/[\w\W]/).size
#cruby s = "caf\xE9 na\xEFve 1a".force_encoding("ISO-8859-1")
#cruby p s =~ /[\W]/, s.scan(/[^\W\d]+/), s.scan(/[\w\W]/).size
#= W and w outside a class
s = "caf\xE9 na\xEFve 1a"
p s =~ /\W/, s.scan(/\w+/), s.gsub(/\W/, "_")
#cruby s = "caf\xE9 na\xEFve 1a".force_encoding("ISO-8859-1")
#cruby p s =~ /\W/, s.scan(/\w+/), s.gsub(/\W/, "_")
#= negated W class with other members
s = "Subject: Pr\xE8s de chez vous, 50% off!"
p s.scan(/[^\W_]+/), s.scan(/[\W\d]+/), s =~ /[\W&&[^ ]]/
#cruby s = "Subject: Pr\xE8s de chez vous, 50% off!".force_encoding("ISO-8859-1")
#cruby p s.scan(/[^\W_]+/), s.scan(/[\W\d]+/), s =~ /[\W&&[^ ]]/
#= posix alpha reads Latin-1 letters
s = "caf\xE9 na\xEFve \xC0 1a"
p s.scan(/[[:alpha:]]+/), s.scan(/[[:upper:]]/), s =~ /[[:space:]]/
#cruby s = "caf\xE9 na\xEFve \xC0 1a".force_encoding("ISO-8859-1")
#cruby p s.scan(/[[:alpha:]]+/), s.scan(/[[:upper:]]/), s =~ /[[:space:]]/
#= ignore case on an 8-bit subject
s = "R\xE9union CAFE caf\xE9"
p s.scan(/caf./i), s =~ /UNION/i, s.sub(/r.union/i, "X")
#cruby s = "R\xE9union CAFE caf\xE9".force_encoding("ISO-8859-1")
#cruby p s.scan(/caf./i), s =~ /UNION/i, s.sub(/r.union/i, "X")
#= dot, split and scan count bytes as characters
s = "a\xE9b\xFF\x80c"
p s.scan(/./).size, s.split(//).size, s.split(/b/), s =~ /c/
#cruby s = "a\xE9b\xFF\x80c".force_encoding("ISO-8859-1")
#cruby p s.scan(/./).size, s.split(//).size, s.split(/b/), s =~ /c/
#= captures and last match on an 8-bit subject
s = "From: Jos\xE9 <jose@example.com>"
if s =~ /\A(\w+): ([^<]+) <([^>]+)>/
  p $1, $2, $3, $~.pre_match, $'.size, $~.begin(3)
end
#cruby s = "From: Jos\xE9 <jose@example.com>".force_encoding("ISO-8859-1")
#cruby if s =~ /\A(\w+): ([^<]+) <([^>]+)>/
#cruby   p $1, $2, $3, $~.pre_match, $'.size, $~.begin(3)
#cruby end
#= named captures and gsub with a block
s = "x=\xE9t\xE9 y=hiver"
p s.gsub(/(?<k>\w)=(?<v>\S+)/) { "#{$~[:v]}<-#{$~[:k]}" }, s.match(/y=(?<v>\w+)/)[:v]
#cruby s = "x=\xE9t\xE9 y=hiver".force_encoding("ISO-8859-1")
#cruby p s.gsub(/(?<k>\w)=(?<v>\S+)/) { "#{$~[:v]}<-#{$~[:k]}" }, s.match(/y=(?<v>\w+)/)[:v]
#= word boundary and anchors
s = "\xABoui\xBB\nnon"
p s.scan(/\b\w+\b/), s =~ /^non$/, s =~ /\Aoui/, s.index(/oui/), s.rindex(/n/)
#cruby s = "\xABoui\xBB\nnon".force_encoding("ISO-8859-1")
#cruby p s.scan(/\b\w+\b/), s =~ /^non$/, s =~ /\Aoui/, s.index(/oui/), s.rindex(/n/)
#= every byte value
s = (0..255).map(&:chr).join
p s.scan(/\W/).size, s.scan(/[\W]/).size, s.scan(/[^\W\d]/).size, s.scan(/[\w\W]/).size, s.scan(/[[:punct:]]/).size
#cruby s = (0..255).map(&:chr).join.force_encoding("ISO-8859-1")
#cruby p s.scan(/\W/).size, s.scan(/[\W]/).size, s.scan(/[^\W\d]/).size, s.scan(/[\w\W]/).size, s.scan(/[[:punct:]]/).size
#= partition and start_with on an 8-bit subject
s = "Pr\xE8s: oui"
p s.partition(/:\s*/), s.rpartition(/\W/), s.start_with?(/Pr\W/)
#cruby s = "Pr\xE8s: oui".force_encoding("ISO-8859-1")
#cruby p s.partition(/:\s*/), s.rpartition(/\W/), s.start_with?(/Pr\W/)
