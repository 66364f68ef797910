# reads: $1 inside a block
["ab"].each { |x| x =~ /(a)/ && puts($1) }
