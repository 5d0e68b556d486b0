print(pcall(unpack, {}, 1, 1e7))
print(select('#', unpack({}, 1, 200)))
