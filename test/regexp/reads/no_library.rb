# reads: none; a library of rules, as in the integration tests
SPAM = /\b(viagra|cialis)\b/i
def spam?(s)
  !!(s =~ SPAM)
end
def score(body)
  n = 0
  n += 3 if body =~ /cheap/
  n += 5 if SPAM === body
  n
end
