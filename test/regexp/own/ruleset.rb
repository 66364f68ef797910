# Pmilter::RuleSet (src/regexp/re_ruleset.c) against the loop of Regexps it
# stands for: for every subject of a generated corpus, set.match(s) must name
# exactly the rules whose regexp.match?(s) is true, in definition order. Runs
# on both engines (on Oniguruma every rule falls back).
PCRE = Regexp.new("a").__engine == "pcre2"

# Rules Hyperscan takes (when their pattern is on PCRE2), then the ones it cannot match exactly.
IN_HS = {
  viagra: /viagra/, casino: /casino/i, "free money" => /free\s+money/i, subject_win: /^Subject: .*win/,
  start: /\Aab/, finish: /end\z/, finish_nl: /end\Z/, line_end: /line$/, date: /\d{4}-\d{2}/, hex: /[0-9a-f]{8}/i,
  kelvin: /k1/i, long_s: /s2/i, cafe: /café/, dotall: /a.b/m, dot: /a.b/, interval: /a{,3}b/, hexdigit: /\h{6}/,
  lead_i: /(?i)ssl/, password: /password/i, word: /\w+@\w+/, space: /x\sy/, notnl: /[^\n]z{2}/, uni: /\u3042/,
  alt: /(?:buy|cheap)\s+(?:now|pills)/i, group: /(?:ab|cd)+e/
}
FALLBACK = {
  boundary: /\bwin\b/, ahead: /foo(?=bar)/, behind: /(?<!x)yz/, backref: /(\w)\1\1/, posix: /[[:alpha:]]é/,
  han: /\p{Han}/, empty: /x*/, atomic: /(?>ab)c/, possessive: /a++b/, extended: /a b c/x, absent: /(?~abc)/,
  latin: /caf[[:alpha:]]/i, capture_rep: /(ab|cd)+e/, caret_mid: /\n^only/, newline_r: /a\Rb/, g: /\Gab/
}
RULES = IN_HS.merge(FALLBACK)

# A deterministic corpus: pieces that make each rule match or nearly match, joined by a small LCG.
PIECES = ["viagra", "VIAGRA", "Casino", "free  money", "free\nmoney", "Subject: you win", "Subject: nothing\nwin",
          "ab", "end", "end\n", "end\n\n", "line", "line\nx", "2024-05", "DEADbeef", "K1", "\u212A1", "\u017F2", "S2",
          "café", "CAFÉ", "caf\xE9", "a\nb", "axb", "aaaab", "b", "c0ffee", "SSL", "ſsl", "pa\u00DFword", "PASSWORD",
          "x@y", "x y", "x\vy", "\nzz", "q zz", "\u3042", "BUY  pills", "cheap now", "\nonly", "only", "ababcde",
          " win ", "xwin", "foobar", "foo bar", "xyz", "ayz", "aaa", "abab", "aé", "漢字", "abc", "aaz", "a\r\nb",
          "\xFF\xFE", "\xC3", "\xED\xA0\x80", "\xC0\xAF", "\t", "\n", " ", "é", "Ω"]
seed = 12345
CORPUS = ["", "ab", "\xE9", "caf\xE9 win"]
300.times do
  s = String.new
  (1 + seed % 5).times do
    seed = (seed * 1103515245 + 12345) % 2147483648
    s << PIECES[seed % PIECES.size] << [" ", "\n", "", "-"][(seed >> 8) % 4]
  end
  CORPUS << s
end
CORPUS << PIECES.join(" ") * 200 # a big subject (~100 KiB) with every piece

def loop_names(rules, s)
  rules.select { |_, re| re.match?(s) }.keys
end

def compare(set, rules)
  CORPUS.each do |s|
    got, want = set.match(s), loop_names(rules, s)
    return [false, "#{s.inspect[0, 80]}: set #{got.inspect}, loop #{want.inspect}"] unless got == want
  end
  [true]
end

SET = Pmilter::RuleSet.new(RULES)
check("RuleSet == Regexp loop on #{CORPUS.size} subjects, #{RULES.size} rules (fallback, /i, anchors, 8-bit, invalid UTF-8)") { compare(SET, RULES) }
check("fallback_names: the rules Hyperscan cannot match exactly (all of them on Oniguruma)") do
  want = PCRE ? FALLBACK.keys : RULES.keys
  [SET.fallback_names == want, "got #{SET.fallback_names.inspect}"]
end
check("names, size: as given, in definition order") do
  set = Pmilter::RuleSet.new({"b" => /b/, a: /a/, "c" => /c/})
  [set.names == ["b", :a, "c"] && set.size == 3 && set.match("cab") == ["b", :a, "c"] && set.match("xx") == [] &&
   set.names.frozen? == false && set.match("a")[0].class == Symbol, set.names.inspect]
end
check("a subject that is not valid UTF-8 is matched by every rule's Regexp (ISO-8859-1 reading)") do
  set = Pmilter::RuleSet.new({plain: /caf/, latin: /caf./, word: /caf\w/i})
  got = set.match("caf\xE9")
  [got == [:plain, :latin], got.inspect]
end
BIG = {}
200.times { |i| BIG["r#{i}"] = i % 2 == 1 ? Regexp.new("w#{i}[a-c]+\\d") : Regexp.new("W#{i}Z", Regexp::IGNORECASE) }
check("200 rules: RuleSet == Regexp loop, none falls back on PCRE2") do
  set = Pmilter::RuleSet.new(BIG)
  subjects = (0...200).map { |i| "x w#{i}abc1 w#{(i * 7) % 200}b2 w#{i * 3}Z #{i % 2 == 0 ? "w#{i}z" : ''}" }
  bad = subjects.find { |s| set.match(s) != loop_names(BIG, s) }
  [bad.nil? && (!PCRE || set.fallback_names.empty?), bad ? "#{bad}: #{set.match(bad)} vs #{loop_names(BIG, bad)}" : set.fallback_names.size.to_s]
end
check("empty set") do
  set = Pmilter::RuleSet.new({})
  [set.match("anything") == [] && set.size == 0 && set.names == [] && set.fallback_names == [], set.inspect]
end
check("bad arguments raise TypeError/ArgumentError") do
  errs = []
  [[1], [{1 => /a/}], [{"a" => "a"}], [{a: nil}], [nil]].each do |args|
    begin
      Pmilter::RuleSet.new(*args)
      errs << "#{args.inspect} accepted"
    rescue TypeError
    end
  end
  begin; Pmilter::RuleSet.new; errs << "no argument accepted"; rescue ArgumentError; end
  begin; SET.match(1); errs << "match(1) accepted"; rescue TypeError; end
  begin; SET.match(nil); errs << "match(nil) accepted"; rescue TypeError; end
  begin; Pmilter::RuleSet.allocate.match("a"); errs << "allocate accepted"; rescue TypeError; end
  begin; SET.send(:initialize, {a: /a/}); errs << "second initialize accepted"; rescue TypeError; end
  begin; SET.dup.match("a"); rescue TypeError; end
  [errs.empty? && SET.size == RULES.size, errs.join("; ")]
end
check("a fallback rule's match limit raises RegexpError from set.match") do
  set = Pmilter::RuleSet.new({ok: /a/, slow: /(a+)+$/})
  begin
    set.match("a" * 30 + "b")
    [false, "no error"]
  rescue RegexpError => e
    [e.message.include?("match limit"), e.message]
  end
end
check("the set keeps working after GC; rules held by the set only") do
  set = Pmilter::RuleSet.new({Regexp.new("zz").source => Regexp.new("z{2}"), "q" => Regexp.new("q", "i")})
  GC.start
  [set.match("Qzz") == ["zz", "q"], set.match("Qzz").inspect]
end
check("RuleSet.new with the same names and patterns returns this VM's set (compiled once), else a new one") do
  a = Pmilter::RuleSet.new({a: /a/, "b" => /b/i})
  same = Pmilter::RuleSet.new({a: /a/, "b" => Regexp.new("b", "i")})
  others = [{"a" => /a/, "b" => /b/i}, {a: /a/, "b" => /b/}, {"b" => /b/i, a: /a/}, {a: /a/, "b" => /b/i, c: /c/}, {a: /a/}]
  fresh = others.map { |h| Pmilter::RuleSet.new(h) }
  [a.equal?(same) && fresh.none? { |s| s.equal?(a) } && fresh[2].names == ["b", :a] && fresh[0].match("a") == ["a"],
   fresh.map(&:names).inspect]
end
check("a handler-style loop of RuleSet.new (200 rules) returns one set; past 64 sets the cache starts over, answers unchanged") do
  s1 = Pmilter::RuleSet.new(BIG)
  same = (0...50).map { Pmilter::RuleSet.new(BIG) }.all? { |x| x.equal?(s1) }
  70.times { |i| Pmilter::RuleSet.new({"n#{i}" => /a/}) }
  s2 = Pmilter::RuleSet.new(BIG)
  [same && !s2.equal?(s1) && s2.match("w3abc1 w4Z") == ["r3", "r4"] && s1.match("w3abc1") == ["r3"], "same #{same}"]
end
