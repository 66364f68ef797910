# pm_regexp_check_irep must name this file and line 7 without running it.
x = /fine (\d+)/
y = Regexp.new("not checked: built at run time (")
z = /#{x}(/
puts "this file is never run by --check"
raise "never"
w = /(foo/
