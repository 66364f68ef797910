# Oniguruma's memory counts against the VM's budget (issue 11 A11). Run with
# `runner --charge-limit 2000000`: 2 MB for programs and match regions.
check("keeping many compiled regexps ends in NoMemoryError") do
  kept = []
  begin
    10_000.times { |i| kept << Regexp.new("[[:alpha:]]+#{i}", Regexp::IGNORECASE) }
    [false, "10000 regexps kept under a 2 MB budget"]
  rescue NoMemoryError
    [kept.size > 10 && kept.size < 10_000, "#{kept.size} kept"]
  end
end

check("one huge pattern ends in NoMemoryError") do
  begin
    Regexp.new("x" * 100_000, Regexp::IGNORECASE)
    [false, "compiled"]
  rescue NoMemoryError
    [true]
  end
end

check("regexps that are garbage are collected instead: no error") do
  20_000.times { |i| Regexp.new("\\p{L}+#{i}") =~ "abc#{i}" }
  [true]
end

check("the budget is back after the kept ones are dropped") do
  [Regexp.new("a+b", "i") =~ "xAAB" && "xx".gsub(/x/) { $~[0].upcase } == "XX", "no match"]
end
