# Compares the outputs of the two sides case by case; one PASS/FAIL line each.
# Usage: ruby compare.rb EXPECTED ACTUAL [LABEL]  (LABEL prefixes each test name)
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
want = split_cases(ARGV[0])
got = split_cases(ARGV[1])
label = ARGV[2] || ""
want.each do |name, w|
  g = got[name]
  if g.nil?
    puts "FAIL: #{label}#{name}: no output from runner (crashed earlier?)"
  elsif g == w
    puts "PASS: #{label}#{name}"
  else
    puts "FAIL: #{label}#{name}: expected #{w.inspect} got #{g.inspect}"
  end
end
