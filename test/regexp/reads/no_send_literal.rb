# reads: none; send, __send__, public_send and method with a literal Symbol
p "x".send(:upcase), "x".__send__(:center, 5), "x".public_send(:*, 3), "x".method(:upcase).call
p [1, 2].map(&:to_s), :upcase.to_proc.call("y")
