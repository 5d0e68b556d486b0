print(#{}, #{1, 2, 3}, #{nil}, #{n = 1}, #{1, 2, nil})
local t = {} for i = 1, 10 do t[i] = i end print(#t)
t[#t] = nil print(#t)
t[#t + 1] = "x" print(#t, t[#t])
