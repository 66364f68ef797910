# reads: to_proc on a computed Symbol-like value
n = :upcase
[1].map(&n.to_proc)
