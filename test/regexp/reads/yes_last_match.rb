# reads: Regexp.last_match(1)
"ab" =~ /(a)/
p Regexp.last_match(1)
