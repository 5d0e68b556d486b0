-- luahost shim for `kong.vendor.classic` (rxi's "classic" class library,
-- vendored by Kong 0.x-2.x). Covers the whole public surface: Object:extend,
-- Object:implement, Object:is, Object:__tostring, calling a class to build
-- an instance (which runs :new(...)), and inheritance of metamethods.

local Object = {}
Object.__index = Object

-- new is the constructor hook; classes override it.
function Object:new()
end

-- extend makes a subclass: it copies the parent's metamethods (fields whose
-- name starts with "__") so that instances keep __tostring, __call, ...
function Object:extend()
  local cls = {}
  for k, v in pairs(self) do
    if type(k) == "string" and k:find("__", 1, true) == 1 then
      cls[k] = v
    end
  end
  cls.__index = cls
  cls.super = self
  setmetatable(cls, self)
  return cls
end

-- implement copies functions the class does not have yet from each mixin.
function Object:implement(...)
  for i = 1, select("#", ...) do
    local mixin = select(i, ...)
    for k, v in pairs(mixin) do
      if self[k] == nil and type(v) == "function" then
        self[k] = v
      end
    end
  end
end

-- is walks the metatable chain looking for T.
function Object:is(T)
  local mt = getmetatable(self)
  while mt do
    if mt == T then
      return true
    end
    mt = getmetatable(mt)
  end
  return false
end

function Object:__tostring()
  return "Object"
end

-- Calling a class builds an instance and runs its constructor.
function Object:__call(...)
  local obj = setmetatable({}, self)
  obj:new(...)
  return obj
end

return Object
