-- luassert.assert look-alike (stands in for lunarmodules/luassert's
-- luassert/assert.lua): the same object as the global assert of specs, so
-- that `local luassert = require "luassert.assert"; luassert:register(...)`
-- (Kong's spec/internal/asserts.lua) registers on it.
return require("luassert").assert
