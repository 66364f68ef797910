# Run by `runner --threads 4`: each thread has its own VM; raises on a wrong result.
2000.times do |i|
  s = "From: user#{i}@example.com (#{i})"
  raise "match #{i}" unless s =~ /user(\d+)@/ && $1 == i.to_s && $~[0] == "user#{i}@"
  hashes = "#" * i.to_s.size
  raise "gsub #{i}" unless s.gsub(/\d/, "#") == "From: user#{hashes}@example.com (#{hashes})"
  raise "scan #{i}" unless s.scan(/\w+/) == ["From", "user#{i}", "example", "com", i.to_s]
  raise "split" unless "a,b,c".split(/,/) == %w[a b c]
end
limited = begin
  ("a" * 25 + "b") =~ /(a+)+$/
  false
rescue RegexpError => e
  e.message.start_with?("match limit exceeded")
end
raise "match limit not reached" unless limited
