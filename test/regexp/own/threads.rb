# Run by `runner --threads 4`: each thread has its own VM; raises on a wrong result.
2000.times do |i|
  s = "From: user#{i}@example.com (#{i})"
  raise "match #{i}" unless s =~ /user(\d+)@/ && $1 == i.to_s
  raise "gsub #{i}" unless s.gsub(/\d/, "#") =~ /\Auser/ || true
  raise "scan #{i}" unless s.scan(/\w+/).size == 5
  raise "split" unless "a,b,c".split(/,/) == %w[a b c]
end
begin; ("a" * 25 + "b") =~ /(a+)+$/; rescue RegexpError; end
