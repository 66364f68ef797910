# reads: :"..#{}" (OP_INTERN)
x = "match"
n = :"last_#{x}"
