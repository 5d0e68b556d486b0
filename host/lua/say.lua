-- say look-alike (stands in for lunarmodules/say): the message table of
-- luassert. say:set(key, text) stores a format string, say(key, args)
-- formats it with string.format over args (1..n), say:set_namespace(ns)
-- switches the table (default "en"). Unknown keys give nil.

local say = { namespaces = { en = {} }, current = "en" }

function say:set_namespace(ns)
  self.current = ns
  self.namespaces[ns] = self.namespaces[ns] or {}
end

function say:set(key, text)
  self.namespaces[self.current][key] = text
end

local function lookup(key)
  return say.namespaces[say.current][key] or say.namespaces.en[key]
end

return setmetatable(say, {
  __call = function(_, key, args)
    local text = lookup(key)
    if text == nil then return nil end
    args = args or {}
    local n = args.n or #args
    local strs = {}
    for i = 1, n do strs[i] = tostring(args[i]) end
    local ok, out = pcall(string.format, text, unpack(strs, 1, n))
    return ok and out or text
  end,
  __index = function(_, key) return lookup(key) end,
})
