-- same priority as the other of trace-b/trace-c: Kong orders them by name, descending
return require("kong.plugins.trace-a.trace").handler("trace-b", 500)
