# reads: send with a computed name
m = "last" + "_match"
p Regexp.send(m)
