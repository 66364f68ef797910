# Compares the outputs of the two sides case by case; one PASS/FAIL line each.
# Usage: ruby compare.rb EXPECTED ACTUAL LABEL CASES  (LABEL prefixes each test
# name; CASES is the corpus size, counted from the corpus by run.sh).
# Exits 1 if any case fails or either side does not hold exactly CASES cases.
def split_cases(path)
  h = {}
  name = nil
  File.binread(path).each_line do |l|
    if l.start_with?("=== ")
      name = l[4..].strip
      h[name] = +""
    elsif name
      h[name] << l
    end
  end
  h
end
abort "usage: compare.rb EXPECTED ACTUAL LABEL CASES" unless ARGV.size == 4 && ARGV[3] =~ /\A\d+\z/
want = File.exist?(ARGV[0]) ? split_cases(ARGV[0]) : {}
got = File.exist?(ARGV[1]) ? split_cases(ARGV[1]) : {}
label = ARGV[2]
cases = ARGV[3].to_i
failed = 0
if want.size != cases
  puts "FAIL: #{label}expected output holds every case: #{want.size} of #{cases} (CRuby failed or the corpus was misread?)"
  failed += 1
end
(got.keys - want.keys).each do |name|
  puts "FAIL: #{label}#{name}: in the runner's output only"
  failed += 1
end
want.each do |name, w|
  g = got[name]
  if g.nil?
    puts "FAIL: #{label}#{name}: no output from runner (crashed earlier?)"
    failed += 1
  elsif g == w
    puts "PASS: #{label}#{name}"
  else
    puts "FAIL: #{label}#{name}: expected #{w.inspect} got #{g.inspect}"
    failed += 1
  end
end
exit(failed.zero? ? 0 : 1)
