print(table.maxn({}), table.maxn({1, 2, 3}), table.maxn({[10] = 1, [2] = 1}), table.maxn({[1.5] = true}))
print(table.maxn({[-1] = 1}), table.maxn({a = 1, [3] = 2}), table.maxn({[2^40] = 1}))
print(pcall(table.maxn))
