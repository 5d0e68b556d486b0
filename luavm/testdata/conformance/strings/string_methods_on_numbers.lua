local s = "x"
print(s:len(), ("%d"):format(5), #tostring(12))
print(pcall(function() return (5):len() end))
