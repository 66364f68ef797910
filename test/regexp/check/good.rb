# Every literal here compiles.
a = /(?<user>[^@]+)@(?<domain>.+)/
b = /\A\s*\z/mix
c = %r{https?://[^/]+}
def f(s) = s =~ /\p{Han}+/
d = [/x/, /y/i].map { |r| r.source }
