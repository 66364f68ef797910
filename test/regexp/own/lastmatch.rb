# Code that reads the last-match state after =~ and === (issue 18): this
# file names $~ and $1, so the runner's scan keeps the state and every
# match sets it as before. Runs on both engines.
check("the scan saw a reader: this VM keeps the last-match state") do
  [Regexp.__keeps_last_match == true, Regexp.__keeps_last_match.inspect]
end

check("=~ sets $~, $1, $2, $&, $`, $' and $+") do
  pos = ("mail taro@example now" =~ /(\w+)@(\w+)/)
  got = [pos, $~[0], $1, $2, $&, $`, $', $+]
  [got == [5, "taro@example", "taro", "example", "taro@example", "mail ", " now", "example"], got.inspect]
end

check("m = (str =~ re) then $~ (the result and the MatchData agree)") do
  m = ("x café y" =~ /é (.)/)
  [m == 5 && $~.begin(0) == 5 && $1 == "y", [m, $~].inspect]
end

check("a failed =~ clears $~ and $1") do
  "abc" =~ /(b)/
  "abc" =~ /(z)/
  [$~.nil? && $1.nil?, [$~, $1].inspect]
end

check("case/when sets $~ to the branch that matched") do
  got = case "id=42"
        when /name=(\w+)/ then [:name, $1]
        when /id=(\d+)/ then [:id, $1]
        end
  [got == [:id, "42"], got.inspect]
end

check("=== on a non-string clears $~") do
  "abc" =~ /(b)/
  /b/ === 3
  [$~.nil?, $~.inspect]
end

check("!~ sets $~ as =~ does") do
  r = ("abc" !~ /(c)/)
  [r == false && $1 == "c", [r, $1].inspect]
end

check("Regexp.last_match and Regexp.last_match(n)") do
  "key: value" =~ /(?<k>\w+): (?<v>\w+)/
  got = [Regexp.last_match[0], Regexp.last_match(:k), Regexp.last_match(2)]
  "zzz" =~ /q/
  [got == ["key: value", "key", "value"] && Regexp.last_match.nil? && Regexp.last_match(1).nil?, got.inspect]
end

check("an 8-bit subject and an Oniguruma-only pattern set $1 too") do
  "caf\xe9 x" =~ /(caf.)/
  a = $1
  "abcx" =~ /((?~abc))x/
  [a == "caf\xe9" && $1 == "bc", [a, $1].inspect]
end
