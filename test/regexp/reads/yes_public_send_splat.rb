# reads: public_send with a splat
a = [:last_match]
p Regexp.public_send(*a)
