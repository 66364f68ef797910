# reads: instance_eval of a string
Object.instance_eval("self")
