local z, i = 0, math.huge
print(math.fmod(1, z), math.fmod(i, 1), math.fmod(-1, z))
print(math.sqrt(-1), math.log(-1), math.log10(-1), math.acos(2), math.asin(2))
print(math.pow(-8, 1/3), math.exp(0/z), math.floor(0/z), math.ceil(0/z), math.abs(0/z))
print(math.sin(i), math.cos(i), math.tan(i), math.max(0/z, 1), math.min(-(0/z), 1))
print(math.modf(0/z))
print(math.frexp(0/z))
