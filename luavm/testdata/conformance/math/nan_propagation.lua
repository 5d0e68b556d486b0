local i, n = 1/0, 0/0
print(math.acos(2), math.asin(2), math.log(-1), math.log10(-1), math.sqrt(-1), math.pow(-8, 1/3))
print(math.fmod(1, 0), math.fmod(i, 1), math.sin(i), math.cos(i), math.tan(i), math.log(0))
print(math.fmod(n, 1), math.fmod(-n, 1), math.fmod(1, n), math.fmod(1, -n), math.pow(n, 0), math.pow(1, n))
print(math.atan2(n, 1), math.ldexp(n, 1), math.cosh(n), math.abs(n), math.pow(-n, 2))
