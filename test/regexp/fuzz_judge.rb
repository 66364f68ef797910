# Judges a fuzz run (fuzz.rb): a pattern pmilter puts on PCRE2 must give
# CRuby's answers; a pattern on Oniguruma is the translation declining, which
# is allowed (libonig's own differences from CRuby are not what this tests).
# Usage: ruby fuzz_judge.rb LABEL ENGINES COMPARE...  (COMPARE: compare.rb
# outputs of the default mode). Prints one PASS/FAIL line.
label, engines, *compares = ARGV
engine = File.readlines(engines).to_h { |l| l.chomp.split(" ", 2) }
results = compares.flat_map { |f| File.readlines(f) }
bad = results.grep(/\AFAIL: /).select { |l| engine[l[/\AFAIL: (fuzz\d+\/\d+)/, 1]] == "pcre2" }
missing = engine.size - results.grep(/\A(PASS|FAIL): fuzz/).size
on_pcre = engine.values.count("pcre2")
if bad.empty? && missing.zero? && on_pcre > engine.size / 3
  puts "PASS: #{label}: #{engine.size} random patterns, the #{on_pcre} on PCRE2 give CRuby's answers"
else
  puts "FAIL: #{label}: #{bad.size} PCRE2 patterns differ from CRuby, #{missing} cases missing, #{on_pcre} of #{engine.size} on PCRE2: #{bad.first(3).join(' ')[0, 1500]}"
end
