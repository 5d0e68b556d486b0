local z, one = 0, 1
local nz = -z
print(nz, nz * one, -one * z, z / -one, nz + nz, nz - z, 1 / (nz * one))
