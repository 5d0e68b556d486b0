print(math.huge, -math.huge, math.pi, math.huge > 2^1023)
print(math.sqrt(2), math.abs(-3), math.exp(0), math.log(1), math.log10(1000))
print(math.sin(0), math.cos(0), math.pow(2, 10), math.rad(180), math.deg(math.pi))
