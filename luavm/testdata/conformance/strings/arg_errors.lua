print(pcall(string.rep))
print(pcall(string.sub))
print(pcall(string.char, 256))
print(pcall(function() return string.rep() end))
