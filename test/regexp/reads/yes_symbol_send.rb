# reads: &:send passes send itself around
[["x", :upcase]].map { |a| a }.each { |r, m| [r].each(&:send) }
