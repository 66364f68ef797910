# =~, === and !~ in code that never reads the last-match state (issue 18):
# this file names no $~, $1.. nor Regexp.last_match, so the runner's scan
# (as pmilter's for a config's handlers) lets them match like match?: the
# answers must be the same as with a MatchData, and a loop of them must
# allocate nothing (mruby's allocations included; __allocs is -1 under the
# sanitizers, where the counts are not judged). Runs on both engines.
def live_objects
  c = ObjectSpace.count_objects
  c[:TOTAL] - c[:FREE]
end

# Runs of the block, less an empty loop's cost, 200 times: [mruby objects
# made, counted with the GC off so that live objects only grow; malloc
# calls, counted with the GC on as in a handler, where it recycles objects].
def loop_cost(&blk)
  blk.call
  empty = Proc.new {}
  objects = [empty, blk].map do |b|
    GC.disable
    o = live_objects
    i = 0
    while i < 200
      b.call
      i += 1
    end
    live_objects - o
  ensure
    GC.enable
  end
  mallocs = [empty, blk].map do |b|
    a = __allocs
    i = 0
    while i < 200
      b.call
      i += 1
    end
    __allocs - a
  end
  [objects[1] - objects[0], mallocs[1] - mallocs[0]]
end

# A search on Oniguruma may malloc once inside the library (it copies its
# backtrack stack to the heap when a match attempt ends: regexec.c
# STACK_SAVE); pmilter's side allocates nothing there either. So: no mruby
# object ever, no malloc on PCRE2, at most one per search on Oniguruma.
def judge(cost, onig_searches)
  objects, mallocs = cost
  return [true, ""] if __allocs < 0 && objects == 0 # sanitizers own malloc: objects only
  [objects == 0 && mallocs <= onig_searches, "#{objects} objects, #{mallocs} mallocs (allowed: #{onig_searches})"]
end

def on_onig(rules)
  rules.count { |re| re.__engine != "pcre2" }
end

check("the scan saw no reader: this VM keeps no last-match state") do
  [Regexp.__keeps_last_match == false, Regexp.__keeps_last_match.inspect]
end

# [pattern, subject, byte offset of the first match or nil]
CASES = [
  [/b/, "abc", 1], [/z/, "abc", nil], [/\Aab/, "abc", 0], [/c\z/, "abc", 2], [/$/, "ab\ncd", 2],
  [/é(.)/, "café x", 3], [/x/, "café x", 6], [/(?~abc)x/, "abcx", 1], [/(?<n>\d+)/, "ab 42", 3],
  [/caf./, "caf\xe9 au lait", 0], [/lait/, "caf\xe9 au lait", 8], [/\p{Han}|t/, "caf\xe9 t", 5],
  [/a*/, "", 0], [/b/i, "ABC", 1], [/x/, :xyz, 0],
]

check("=~ gives the byte offset or nil, both ways round") do
  bad = CASES.reject do |re, s, want|
    (re =~ s) == want && (s.is_a?(String) ? (s =~ re) == want : true)
  end
  [bad.empty?, bad.map { |re, s, want| "#{re.inspect} =~ #{s.inspect}: #{(re =~ s).inspect}, want #{want.inspect}" }.join("; ")]
end

check("=== and !~ agree with =~") do
  bad = CASES.reject { |re, s, want| (re === s) == !want.nil? && (s.is_a?(String) ? (s !~ re) == want.nil? : true) }
  [bad.empty?, bad.map { |re, s, _| re.inspect + " / " + s.inspect }.join("; ")]
end

check("=== is false for a non-string, =~ nil for nil") do
  [(/a/ === 1) == false && (/a/ === nil) == false && (/a/ =~ nil).nil?, "wrong"]
end

def kind(s)
  case s
  when /\A\d+\z/ then :number
  when /\A[a-z]+\z/i then :word
  when /@/ then :address
  else :other
  end
end

NUMBER = /\A\d+\z/
WORD = /\A[a-z]+\z/i
ADDRESS = /@/
def kind_of_constants(s)
  case s
  when NUMBER then :number
  when WORD then :word
  when ADDRESS then :address
  else :other
  end
end

check("case/when picks the first matching pattern") do
  got = ["42", "Hello", "a@b", "a b", "caf\xe9"].map { |s| kind(s) }
  [got == [:number, :word, :address, :other, :other], got.inspect]
end

check("the match limit still raises RegexpError from =~") do
  begin
    /(a+)+$/ =~ ("a" * 40 + "!")
    [false, "no error"]
  rescue RegexpError => e
    [e.message.start_with?("match limit exceeded"), e.message]
  end
end

BODY = ("Dear friend, this is a normal line of text.\n" * 180) + "Buy cheap V1AGRA now at http://spam.example/\n"
LATIN = BODY.sub("friend", "caf\xe9")
RULES = [/viagra|v1agra/i, /\bcheap\b/, /https?:\/\/[a-z.]+\//, /^Dear friend/, /\d{3}-\d{4}/, /[[:upper:]]{5}/, /(?~abc)zq/]

check("=~, ===, !~ on an 8 KiB body: no object, no malloc but Oniguruma's own") do
  cost = loop_cost do
    j = 0
    while j < RULES.size
      RULES[j] =~ BODY
      BODY =~ RULES[j]
      RULES[j] === BODY
      BODY !~ RULES[j]
      j += 1
    end
  end
  judge(cost, 200 * 4 * on_onig(RULES))
end

check("case/when over Regexp constants: no object, no malloc but Oniguruma's own") do
  judge(loop_cost { kind_of_constants(BODY) }, 200 * 3 * on_onig([NUMBER, WORD, ADDRESS]))
end

# A literal in code that runs again is mruby's Regexp.compile(source, flags)
# call: mruby makes the source and flags Strings (OP_STRING) each time, 4
# here; the per-VM literal cache then finds the Regexp building nothing.
check("case/when over literals in a method: only mruby's own literal strings") do
  objects, mallocs = loop_cost { kind(BODY) }
  # (a few mallocs: mruby growing its heap for those strings between GCs)
  ok = objects <= 200 * 4 && (mallocs <= 200 * 3 * on_onig([NUMBER, WORD, ADDRESS]) + 4 || __allocs < 0)
  [ok, "#{objects} objects, #{mallocs} mallocs"]
end

check("an 8-bit subject (Oniguruma, Latin-1): no object once its programs exist") do
  judge(loop_cost { j = 0; while j < RULES.size; RULES[j] =~ LATIN; j += 1; end }, 200 * RULES.size)
end

check("Regexp#match still returns a MatchData, and sets no $~ here") do
  m = /(\w+)@(\w+)/.match("mail taro@example now")
  [m.is_a?(MatchData) && m[1] == "taro" && m.pre_match == "mail " && m.post_match == " now", m.inspect]
end
