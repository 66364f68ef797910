# One case per Ruby->PCRE2 translation rule and per reason a pattern stays on
# Oniguruma (src/regexp/re_pcre.c, docs/regexp.md). run.sh runs the corpus
# on both engines (PCRE2 where the pattern translates, and
# PMILTER_REGEXP_ENGINE=oniguruma); test/regexp/own/engines.rb checks which
# engine each of these patterns gets. All subjects are ASCII or valid UTF-8
# with equal byte and character offsets where offsets are printed.
#= caret is a line anchor, not after a final newline
p "a\nb\n".scan(/^./), "a\n".scan(/^/).size, "\n\n".scan(/^$/).size
#= dollar before every newline and at the end
p "a\nb\n".scan(/.$/), "ab\n" =~ /b$/, "ab\ncd" =~ /b$\n/
#= A z Z anchors
p "ab\n" =~ /b\Z/, "ab\n" =~ /b\z/, "ab\n" =~ /\Aab/, "x\nab" =~ /\Aab/
#= G anchors at the search start
p "aab".scan(/\Ga/), "xaa".index(/\Ga/, 1)
#= m flag is dotall
p "a\nb" =~ /a.b/m, "a\nb" =~ /a.b/, "a\nb".match(/(?m)a.b/)[0]
#= inline i on part of a pattern
p "ABC" =~ /a(?i)bc/, "aBC" =~ /a(?i)bc/, "aBc" =~ /a(?i:b)c/, "aBC" =~ /a(?i:b)c/
#= inline minus i
p "AbC" =~ /a(?-i)b(?i)c/i, "ABC" =~ /a(?-i)b(?i)c/i
#= h is a hex digit
p "xyz 0fA9 g".scan(/\h+/), "0fg".scan(/\H/), "09af-Z".scan(/[\h-]+/)
#= v is vertical tab
p "a\vb\nc".split(/\v/)
#= R is any line break
p "a\r\nb\nc\rd\u2028e".split(/\R/)
#= unicode escapes
p "あいう"[/\u3044./], "aé" =~ /\u{61 e9}/, "x\u00e9" =~ /[\u00e0-\u00ff]/
#= x escapes below 80
p "a\tb" =~ /\x09/, "AB" =~ /\x41\x42/
#= interval with empty minimum
p "aaaa"[/a{,3}/], "ab{,3}"[/b\{,3\}/], "a{2}" =~ /a\{2\}/
#= literal braces
p "x{y}" =~ /x{y}/, "{" =~ /{/, "a{,}" =~ /a{,}/
#= word boundary around non-ascii letters marks and numbers
p "café bar".scan(/\b\w+\b/), "naïve" =~ /\bve\b/, "x\u00b2 a\u0301 b\u203fc \u216b \u0663".scan(/\b/).size
#= word boundary inside non-ascii words
p "Привет мир".scan(/\b/).size, "日本語 text".scan(/\b.../), "é" =~ /\bé/, "aé" =~ /a\b/
#= word boundary next to a literal word character (one-sided lookaround)
p "éfoo foo".sub(/\bfoo/, "<>"), "fooé foo".sub(/foo\b/, "<>"), "x²cheap cheap".sub(/\b(?:cheap|dear)\b/, "<>")
p "a\u0301bc bc".sub(/\Bbc/, "<>"), "ab_ab" =~ /\bab\b/, "ab" =~ /a?\bb/, "1 2" =~ /\d\b/, "xa1" =~ /a{1}\b/, "ܐx x".sub(/\bx/, "<>")
#= not word boundary
p "abc é".scan(/\B./), "a\u0301".scan(/\B/).size
#= named groups make plain groups non-capturing
m = /(?<y>\d+)-(\d+)-(?<d>\d+)/.match("2024-05-17")
p m.captures, m.names, m[:y], m["d"], m.size
#= named backreference
p "abab" =~ /(?<x>ab)\k<x>/, "abac" =~ /(?<x>ab)\k<x>/, "aa".match(/(?'q'a)\k'q'/)[0]
#= numbered backreference
p "xyxy" =~ /(xy)\1/, "hello" =~ /(l)\1/, $~ && $~[1]
#= posix brackets on unicode
p "café Ω 9٣ ²".scan(/[[:alpha:]]+/), "9٣²".scan(/[[:digit:]]/), "ÉA éa".scan(/[[:upper:]]/), "ÉA éa".scan(/[[:lower:]]/)
#= posix space xdigit and negation
p "a\u3000b\u00a0c d".split(/[[:space:]]/), "0xFfG".scan(/[[:xdigit:]]/), "ab1 2".scan(/[[:^alpha:]]/)
#= unicode properties translated
p "Ωmega αβ".scan(/\p{Greek}+/), "日本ひら".scan(/\p{Han}+/), "aΩ1".scan(/\P{L}/), "aΩ1".scan(/\p{^L}/)
#= script is not script extension
p "\u0342\u3001\u30fc".scan(/\p{Greek}/).size, "\u30fc".scan(/\p{Katakana}/).size, "\u3001".scan(/\p{Han}/).size
#= general categories
p "Aa1_.-".scan(/\p{Lu}|\p{Pd}|\p{Nd}/), "a\u0301".scan(/\p{M}/).size
#= case insensitive ascii kelvin and long s
p "\u212a" =~ /k/i, "\u017f" =~ /s/i, "K" =~ /[a-z]/i, "\u212a" =~ /[^k]/i
#= lazy and possessive quantifiers
p "aaa"[/a+?/], "aaa"[/a*+/], "aaab" =~ /a++b/, "aaa" =~ /a++a/
#= lookaround
p "price: 100USD"[/\d+(?=USD)/], "xyz"[/(?<=x)y/], "ab" =~ /a(?!b)/, "cb" =~ /(?<!a)b/
#= atomic group
p "aaab" =~ /(?>a+)b/, "aaa" =~ /(?>a+)a/
#= comment group
p "ab" =~ /a(?#note)b/
#= alternation with empty branch
p "ac".match(/a(b|)c/)[1], "abc".scan(/b|/)
#= fold ss with non-ascii pattern stays on oniguruma
p "STRASSE" =~ /straße/i, "FILE" =~ /\ufb01le/i
#= multi-character folds of ascii letter runs on pcre2
p "straße" =~ /STRASSE/i, "ß" =~ /ss/i, "\ufb01le" =~ /file/i, "\u1e9e" =~ /ss/i, "ﬆ" =~ /ST/i
p "paßword".sub(/password/i, "<>"), "ﬃ" =~ /ffi/i, "ﬄ" =~ /ffl/i, "ßs" =~ /sss/i, "ſt ﬅ".scan(/st/i)
# (CRuby also matches "ﬀi" and "fﬁ" with /ffi/i, "sß" with /sss/i, "ß" with /[s]s/i; so does
# the PCRE2 translation, libonig does not: those are left out of the corpus.)
#= multi-character folds do not join quantified or separate nodes
p "ß." =~ /ss+/i, "ß!" =~ /s+/i, "ß2" =~ /ss?/i, "ß" =~ /(s)s/i, "ß" =~ /s[s]/i
#= a comment inside a letter run keeps the fold (oniguruma)
p "ß" =~ /s(?#c)s/i
#= absent operator stays on oniguruma
p "/* c */ x"[/\/\*(?~\*\/)\*\//]
#= subexpression call stays on oniguruma
p "(a(b))" =~ /(?<p>\((?:[^()]|\g<p>)*\))/, $~[0]
#= extended mode stays on oniguruma
p "2024-05" =~ /(\d+) - (\d+) # year and month/x, "2024-05".match(/(?x) \d+ - (\d+)/)[1]
#= nested class and intersection stay on oniguruma
p "abc1".scan(/[a-z&&[^b]]/), "ab1".scan(/[a[0-9]]/)
#= interval followed by ? or + stays on oniguruma
p "aaa"[/a{1,2}?/], "aaaa"[/a{2}+/]
#= byte escapes stay on oniguruma
p "あ" =~ /\xE3\x81\x82/
#= properties outside the list stay on oniguruma
p "ab1".scan(/\p{Alpha}/), "aé".scan(/\p{ASCII}/), "ab".scan(/\p{Word}+/)
#= case insensitive backreference stays on oniguruma
p "abAB" =~ /(ab)\1/i, "Straße" =~ /(?i)STRASSE/
#= keep and grapheme escapes stay on oniguruma
p "foobar".sub(/foo\Kbar/, "X"), "e\u0301x".scan(/\X/).size
#= conditional group stays on oniguruma
p "<a>" =~ /(<)?a(?(1)>)/, "a" =~ /(<)?a(?(1)>)/
#= two digit backreference stays on oniguruma
p "abcdefghijj" =~ /(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\10/
#= search positions and matchdata on pcre2
s = "one two three"
m = /(?<w>t\w+)/.match(s, 5)
p m[0], m.begin(0), m.end(:w), m.pre_match, m.post_match, s.index(/t/, 5), s.rindex(/t\w/)
#= gsub scan split on pcre2 with empty matches
p "abc".gsub(//, "-"), "a,b;;c".split(/[,;]/), "aXbXc".scan(/X|$/), "héllo".gsub(/l*/, "_")
#= start with and anchored match on pcre2
p "hello".start_with?(/hel/), "hello".start_with?(/ell/), $~ && $~[0]
#= case when on pcre2 sets last match
case "Subject: hi"
when /\ASubject: (.*)/ then p $1, $~.pre_match
end
#= word boundary classes every code point below U+3100 as CRuby does
# (less those Unicode 14 assigned: CRuby 3.1 has Unicode 13, libonig and PCRE2 14)
u14 = [0x870..0x8D2, 0xC3C..0xC3C, 0xC5D..0xC5D, 0xCDD..0xCDD, 0x170D..0x171F, 0x180F..0x180F, 0x1AC1..0x1ACE,
       0x1B4C..0x1B4C, 0x1DFA..0x1DFA, 0x2C2F..0x2C2F, 0x2C5F..0x2C5F]
cps = (0x80...0x3100).reject { |c| u14.any? { |r| r.include?(c) } }
after = cps.select { |c| ("a" + [c].pack("U")) =~ /a\b/ }
before = cps.select { |c| ("!" + [c].pack("U")).match?(/!\b/) }
p after.size, after.inject(0) { |a, b| a + b }, before.size, before.inject(0) { |a, b| a + b }
#= backreference after a repeated group stays on oniguruma (found by the fuzz, seed 32)
m = /(?:(b)|(?<=é) ?){2}\1*/.match("aXé 9\nx")
p m[0], m.pre_match, m[1]
#= a leading inline i folds letter runs like the flag
p "ﬁle" =~ /(?i)file/, "paßword" =~ /(?i)PASSWORD|x/, "ﬁle" =~ /x(?i)file/
#= capture in a repeated group stays on oniguruma (found by the fuzz, seed 41)
m = /[[:space:]]{,2}(?<n0>(?<=é)[\p{Greek}x]*)*+(?<=\d)/m.match("aXé 9\nx")
p m[0], m[:n0], "ab12".match(/(?:([a-z])\d?)+/)[1]
