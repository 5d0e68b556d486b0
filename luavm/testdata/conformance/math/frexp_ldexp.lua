print(math.frexp(8), math.frexp(0), math.frexp(-3), math.ldexp(0.5, 4), math.ldexp(1, -1))
print(math.atan2(1, 1), math.asin(1), math.acos(1), math.atan(1), math.tan(0))
print(math.sinh(0), math.cosh(0), math.tanh(0))
