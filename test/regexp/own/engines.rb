# Which engine each pattern gets (Regexp#__engine): PCRE2 for the constructs
# src/regexp/re_pcre.c translates, Oniguruma with the reason for the rest.
# The corpus (corpus/pcre.rb) checks that the answers are CRuby's on both.
# Under PMILTER_REGEXP_ENGINE=oniguruma every pattern is on Oniguruma: run.sh
# runs this file in the default mode only.
PCRE2 = [/^a$/, /\Aa\z/, /a\Z/, /\Ga/, /a.b/m, /a(?i)bc/, /a(?i:b)c/, /a(?-i)b/i, /(?m:.)/, /\h\H/, /[\h-]/, /\v/, /\R/,
         /\u3044/, /\u{61 e9}/, /\x41/, /a{,3}/, /a{2,}b{1}/, /x{y}/, /\bword\b/, /\B/, /(?<y>\d+)-(\d+)/, /(?<x>a)\k<x>/,
         /(?'q'a)\k'q'/, /(a)\1/, /[[:alpha:][:digit:][:upper:][:lower:][:space:][:xdigit:]]/, /[[:^alpha:]]/, /\p{Greek}/,
         /\p{^L}\P{Lu}/, /\p{Han}+/, /a+?b*+c++/, /(?=a)(?!b)(?<=c)(?<!d)/, /(?>a+)/, /a(?#c)b/, /a|b|/, /[^a-z]/i,
         /[.\-\]]/, /\d\D\s\S\w\W/, /\t\n\r\f\a\e/, /(?<a>x)(?<b>y)/, /viagra|cialis/i, /заказ/, //, /ss/i, /password|first|office/i, /s+t/i, /(?i)file/]
ONIG = {
  /straße/i => "non-ASCII with /i", /x(?i)file/ => "multi-character folds", /[s]s/i => "one-character class",
  /s(?#c)s/i => "comment", /ss(?-i)a/i => "multi-character folds", /(?:(b)|x){2}\1/ => "repeated group", /(a)+/ => "capture in a repeated group",
  /(?:(a)b)*/ => "capture in a repeated group",
  /(?~\*\/)/ => "absent operator", /(?<p>a\g<p>?)/ => "escape outside", /a b/x => "extended mode /x",
  /(?x)a/ => "extended mode (?x)", /[a-z&&[^b]]/ => "class intersection", /[a[0-9]]/ => "nested character class",
  /a{1,2}?/ => "{n,m}?", /a{2}+/ => "{n,m}?", /\xE3\x81\x82/ => "\\x80-\\xFF", /\p{Alpha}/ => "\\p{} name outside",
  /(ab)\1/i => "backreference with /i", /\p{L}/i => "\\p{} with /i", /[[:alpha:]]/i => "POSIX bracket with /i",
  /foo\K/ => "escape outside", /\X/ => "escape outside", /(<)?a(?(1)>)/ => "conditional group", /(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\10/ => "multi-digit",
  /[[:punct:]]/ => "POSIX bracket outside", /[]a]/ => "leading ]", /\0/ => "escape outside", /\cA/ => "escape outside",
  /(?<n>a)|(?<n>b)/ => "PCRE2 refused", /#{"(a)" * 64}/ => "too many groups", /\x{41}/ => "\\x without digits",
}

check("every translated construct is on PCRE2") do
  bad = PCRE2.reject { |re| re.__engine == "pcre2" }
  [bad.empty?, bad.map { |re| "#{re.inspect}: #{re.__engine}" }.join("; ")]
end

check("each construct outside the translation stays on Oniguruma, with its reason (#{ONIG.size} patterns)") do
  bad = ONIG.reject { |re, why| re.__engine.start_with?("oniguruma: ") && re.__engine.include?(why) }
  [bad.empty?, bad.map { |re, why| "#{re.inspect}: #{re.__engine} (want #{why})" }.join("; ")]
end

check("Regexp.new and dup get the engine of the literal") do
  [Regexp.new("a\\b").__engine == "pcre2" && /x(?i)ss/.dup.__engine.start_with?("oniguruma") && Regexp.new("x", "x").__engine != "pcre2", "?"]
end

check("8-bit subjects go to Oniguruma's Latin-1 program, valid UTF-8 to PCRE2, same answers") do
  s = "caf\xE9 na\xEFve"
  ok = s.scan(/[[:alpha:]]+/) == ["caf\xE9", "na\xEFve"] && "café naïve".scan(/[[:alpha:]]+/) == ["café", "naïve"]
  [ok && "x\xE9y" =~ /y/ && "x\xE9y".match?(/\by/) == false && "ab\xD7" =~ /b\b/, s.scan(/[[:alpha:]]+/).inspect]
end

check("letter runs under /i match the ligatures CRuby folds to them (PCRE2 side)") do
  got = ["ﬀi" =~ /ffi/i, "fﬁ" =~ /ffi/i, "sß" =~ /sss/i, "xﬆy" =~ /xsty/i, "ß" =~ /ss+/i, "ﬁ" =~ /f(?:i)/i]
  [got == [0, 0, 0, 0, nil, nil], got.inspect] # CRuby 3.1's answers (libonig misses the first three)
end

check("overlong and surrogate UTF-8 (valid for Oniguruma, not for PCRE2) match without error") do
  subjects = ["a\xC0\xAFb", "a\xED\xA0\x80b", "a\xF4\x90\x80\x80b", "ab\xE3\x81"]
  res = subjects.map { |s| [s =~ /b/, s.match?(/a.?.?b/), s.scan(/./m).size > 0] }
  [res.all? { |x| x[0] && x[2] }, res.inspect]
end

check("a subject changed in place after a search is checked again") do
  s = "x" * 100
  a = s.match?(/\A[x]+\z/)
  s.setbyte(50, 0xFF) if s.respond_to?(:setbyte)
  s[50] = "\xFF" unless s.getbyte(50) == 0xFF
  b = s.match?(/\A[x]+\z/)
  s[50] = "x"
  c = s.match?(/\A[x]+\z/)
  [[a, b, c] == [true, false, true], [a, b, c].inspect]
end

check("the match limit holds on PCRE2 too (limits.rb runs on both engines)") do
  re = /(?:a+)+$/
  begin
    ("a" * 40 + "b") =~ re
    [false, "no error"]
  rescue RegexpError => e
    [re.__engine == "pcre2" && e.message == "match limit exceeded: /(?:a+)+$/", e.message]
  end
end
