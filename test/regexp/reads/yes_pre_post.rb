# reads: $` and $' and $+
"abc" =~ /b/
p [$`, $', $+]
