-- luahost shim for Penlight's `pl.dir` (1.x), the part Kong's specs use
-- through helpers.dir. Covers: makepath(path) (mkdir -p), rmtree(path),
-- getfiles(dir, pattern), getdirectories(dir), copyfile, movefile. Built
-- on lfs; failures return nil and the error.

local lfs = require "lfs"
local path = require "pl.path"
local file = require "pl.file"

local dir = {}

function dir.makepath(p)
  if path.isdir(p) then return true end
  local parent = path.dirname(p)
  if parent ~= "" and parent ~= p and not path.isdir(parent) then
    local ok, err = dir.makepath(parent)
    if not ok then return nil, err end
  end
  local ok, err = lfs.mkdir(p)
  if not ok and not path.isdir(p) then return nil, err end
  return true
end

-- rmtree(path): the directory and all under it (symbolic links are
-- removed, not followed)
function dir.rmtree(p)
  if lfs.symlinkattributes(p, "mode") == "link" or not path.isdir(p) then
    return nil, "not a directory: " .. tostring(p)
  end
  for name in lfs.dir(p) do
    if name ~= "." and name ~= ".." then
      local full = path.join(p, name)
      local m = lfs.symlinkattributes(full, "mode")
      if m == "directory" then
        local ok, err = dir.rmtree(full)
        if not ok then return nil, err end
      else
        local ok, err = os.remove(full)
        if not ok then return nil, err end
      end
    end
  end
  return lfs.rmdir(p)
end

local function list(p, want, pattern)
  p = p or "."
  local out = {}
  for name in lfs.dir(p) do
    if name ~= "." and name ~= ".." then
      local full = path.join(p, name)
      if lfs.attributes(full, "mode") == want and (not pattern or name:match(pattern)) then
        out[#out + 1] = full
      end
    end
  end
  table.sort(out)
  return out
end

-- getfiles(dir, shell_pattern): "*.lua" style patterns, as Penlight's
function dir.getfiles(p, pattern)
  local lp
  if pattern then
    lp = "^" .. pattern:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
  end
  return list(p, "file", lp)
end

function dir.getdirectories(p)
  return list(p, "directory")
end

dir.copyfile = file.copy
dir.movefile = file.move

return dir
