local status = "success"
local function set() status = "failure" end
print(pcall(error, "x"))
set()
print(status)
