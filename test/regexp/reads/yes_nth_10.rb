# reads: $10 (conservative: any $<digits>)
p $10
