# reads: __send__ with a name in a variable
n = :upcase
"x".__send__(n)
