-- luahost shim for Penlight's `pl.file` (1.x), the part Kong's specs use
-- through helpers.file. Covers: read(path, binary), write(path, s,
-- binary), copy(src, dest), move(src, dest), delete(path). Failures
-- return nil and the error, as Penlight's.

local file = {}

function file.read(p)
  local f, err = io.open(p, "rb")
  if not f then return nil, err end
  local s = f:read("*a")
  f:close()
  return s
end

function file.write(p, s)
  assert(type(s) == "string", "argument 2 expected a 'string', got '" .. type(s) .. "'")
  local f, err = io.open(p, "wb")
  if not f then return nil, err end
  f:write(s)
  f:close()
  return true
end

function file.copy(src, dest)
  local s, err = file.read(src)
  if not s then return nil, err end
  return file.write(dest, s)
end

function file.move(src, dest)
  local ok, err = os.rename(src, dest)
  if not ok then return nil, err end
  return true
end

function file.delete(p)
  local ok, err = os.remove(p)
  if not ok then return nil, err end
  return true
end

return file
