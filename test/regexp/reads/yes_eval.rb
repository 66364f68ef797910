# reads: eval with a string
p eval("1 + 1")
