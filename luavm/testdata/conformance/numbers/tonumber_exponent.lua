print(tonumber("1e"), tonumber("1e5"), tonumber("1E+5"), tonumber("1e-2"), tonumber(".5"), tonumber("5."))
print(tonumber("e5"), tonumber("1e+"), tonumber("."), tonumber("1.5e2.5"), tonumber("-.5e1"))
print(tonumber("1e400"), tonumber("-1e400"), tonumber("1e-400"))
