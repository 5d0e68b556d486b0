local z = 0
local nz = -z
print(nz, -nz, 0 * -1, nz == 0, 1 / nz)
print(tostring(nz), nz .. "", string.format("%g", nz))
