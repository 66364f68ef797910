# reads: global_variables
p global_variables
