# reads: $~ after =~
s = "abc"
puts $~[0] if s =~ /b/
