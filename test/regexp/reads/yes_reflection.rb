# reads: methods (names to send)
Regexp.singleton_methods.each { |m| m }
