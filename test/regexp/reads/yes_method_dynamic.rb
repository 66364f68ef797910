# reads: method with a computed name
n = "upcase"
"x".method(n).call
