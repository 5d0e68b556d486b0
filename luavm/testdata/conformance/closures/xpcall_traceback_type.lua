local ok, tb = xpcall(function() error("deep", 0) end, debug.traceback)
print(ok, type(tb), (tb:match("^deep")))
print(xpcall(function() return 1, 2, 3 end, print))
