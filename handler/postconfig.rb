puts "run at postconfig phase"
