-- luahost shim for Penlight's `pl.path` (1.x), the part Kong's specs use
-- through helpers.path. Covers: exists, isdir, isfile, getsize, isabs,
-- join, basename, dirname, splitpath, splitext, extension, abspath,
-- mkdir, rmdir, tmpname, currentdir, sep. Built on lfs.

local lfs = require "lfs"

local path = { sep = "/", dirsep = ":" }

local function mode(p)
  return lfs.attributes(p, "mode")
end

-- the path when it exists, else false, as Penlight's
function path.exists(p)
  assert(type(p) == "string", "argument 1 expected a 'string', got '" .. type(p) .. "'")
  return mode(p) ~= nil and p or false
end

function path.isdir(p) return mode(p) == "directory" end
function path.isfile(p) return mode(p) == "file" end

function path.getsize(p)
  local size, err = lfs.attributes(p, "size")
  if not size then return nil, err end
  return size
end

function path.isabs(p) return p:sub(1, 1) == "/" end

-- join(a, b, ...): an absolute part restarts the path
function path.join(p1, p2, ...)
  if select("#", ...) > 0 then
    return path.join(path.join(p1, p2), ...)
  end
  if p2 == nil then return p1 end
  if path.isabs(p2) then return p2 end
  if p1 == "" or p1:sub(-1) == "/" then return p1 .. p2 end
  return p1 .. "/" .. p2
end

function path.splitpath(p)
  local dir, base = p:match("^(.*)/([^/]*)$")
  if not dir then return "", p end
  if dir == "" then dir = "/" end
  return dir, base
end

function path.basename(p) return select(2, path.splitpath(p)) end
function path.dirname(p) return (path.splitpath(p)) end

function path.splitext(p)
  local base, ext = p:match("^(.-)(%.[^./]*)$")
  if not base or base == "" or base:sub(-1) == "/" then return p, "" end
  return base, ext
end

function path.extension(p) return select(2, path.splitext(p)) end

function path.currentdir() return lfs.currentdir() end

function path.abspath(p, pwd)
  if path.isabs(p) then return p end
  return path.join(pwd or lfs.currentdir(), p)
end

function path.mkdir(p) return lfs.mkdir(p) end
function path.rmdir(p) return lfs.rmdir(p) end

-- a new empty file's name, as Penlight's (os.tmpname)
function path.tmpname()
  return os.tmpname()
end

return path
