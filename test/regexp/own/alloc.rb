# The hot path allocates nothing (issue 18): Regexp#match? and String#match?
# on a PCRE2 pattern, once the subject's UTF-8 check is remembered, make no
# malloc/calloc/realloc call at all (mruby's allocations included; the
# runner counts them in __allocs). Under the sanitizers malloc is theirs and
# __allocs is -1: the counts are then not judged.
# Allocations made by 200 runs of the block (the loop itself allocates nothing).
def allocs_in_200
  yield
  a = __allocs
  i = 0
  while i < 200
    yield
    i += 1
  end
  __allocs - a
end

BODY = ("Dear friend, this is a normal line of text.\n" * 180) + "Buy cheap V1AGRA now at http://spam.example/\n"
RULES = [/viagra|v1agra/i, /\bcheap\b/, /https?:\/\/[a-z.]+\//, /^Dear friend/, /\d{3}-\d{4}/, /[[:upper:]]{5}/]

check("the rules run on PCRE2") do
  [RULES.all? { |re| re.__engine == "pcre2" }, RULES.map(&:__engine).inspect]
end

# (RULES.each would allocate its block's Proc each time: index instead.)
check("Regexp#match? on an 8 KiB body: no allocation (or not measured under sanitizers)") do
  n = allocs_in_200 { j = 0; while j < RULES.size; RULES[j].match?(BODY); j += 1; end }
  [n == 0 || __allocs < 0, "#{n} allocations in 200 x #{RULES.size} searches"]
end

check("String#match? and a search position: no allocation (or not measured)") do
  body = BODY.dup
  n = allocs_in_200 { j = 0; while j < RULES.size; body.match?(RULES[j]); RULES[j].match?(body, 100); j += 1; end }
  [n == 0 || __allocs < 0, "#{n} allocations"]
end

check("a new subject costs its one UTF-8 check, then nothing") do
  n = allocs_in_200 { s = BODY.dup; RULES.each { |re| re.match?(s) } }
  # each new string: the dup (one object and a shared buffer) and one snapshot
  [__allocs < 0 || n <= 200 * 4, "#{n} allocations for 200 new subjects"]
end

check("answers are those of Oniguruma's path (=~ gives the same)") do
  [RULES.map { |re| re.match?(BODY) } == RULES.map { |re| !(BODY =~ re).nil? }, RULES.map { |re| re.match?(BODY) }.inspect]
end
