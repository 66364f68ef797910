# reads: conservatively; a jump between the literal name and the send (here a ?: argument) forgets the literal
p "x".send(:ljust, 1 > 0 ? 3 : 4)
