# reads: to_sym makes a Symbol from data
n = ("last" + "_match").to_sym
