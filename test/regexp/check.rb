# check(name) { [ok, why] }: one PASS/FAIL line for test/regexp/own/*.rb,
# which test/regexp/run.sh runs with this file in front (mruby has no require).
# A check that raises is a FAIL naming the exception, never an abort.
def check(name)
  ok, why = yield
  puts ok ? "PASS: #{name}" : "FAIL: #{name}: #{why}"
rescue Exception => e
  puts "FAIL: #{name}: #{e.class}: #{e.message}"
end
