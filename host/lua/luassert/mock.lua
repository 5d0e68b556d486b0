-- luassert.mock look-alike (stands in for lunarmodules/luassert's mock):
-- mock(t, dostub) replaces every function of t, and of the tables in it,
-- with a spy (a stub when dostub is true) and returns t; mock.revert(t)
-- puts the originals back.
local spy = require "luassert.spy"
local stub = require "luassert.stub"

local mock = {}

local function walk(t, dostub, seen)
  if seen[t] then return end
  seen[t] = true
  for k, v in pairs(t) do
    if type(v) == "function" then
      if dostub then stub.new(t, k) else spy.on(t, k) end
    elseif type(v) == "table" and not spy.is_spy(v) then
      walk(v, dostub, seen)
    end
  end
end

local function unwalk(t, seen)
  if seen[t] then return end
  seen[t] = true
  local spies = {}
  for k, v in pairs(t) do
    if spy.is_spy(v) then spies[#spies + 1] = v
    elseif type(v) == "table" then unwalk(v, seen) end
  end
  for _, s in ipairs(spies) do s:revert() end
end

function mock.new(t, dostub)
  walk(t, dostub, {})
  return t
end

function mock.revert(t)
  unwalk(t, {})
  return t
end

function mock.clear(t)
  for _, v in pairs(t) do
    if spy.is_spy(v) then v:clear() end
  end
  return t
end

return setmetatable(mock, { __call = function(_, t, dostub) return mock.new(t, dostub) end })
