puts "master exit at exit phase"
