-- luassert, spies, stubs, mocks and matchers as plugin specs use them.
-- Every assertion is shown twice: holding on the right value, and failing
-- (a luassert failure, with its message) on a wrong one. `fails` uses
-- Lua's own error(), not the assertions it checks.
local say = require "say"

local function fails(fn, pattern)
  local ok, err = pcall(fn)
  if ok then error("expected an assertion failure, none was raised", 2) end
  if type(err) ~= "table" or not err.luassert then
    error("expected a luassert failure, got the error: " .. tostring(err), 2)
  end
  if pattern and not tostring(err.message):find(pattern, 1, true) then
    error("failure message\n" .. tostring(err.message) .. "\nlacks\n" .. pattern, 2)
  end
  return err.message
end

describe("luassert modifiers", function()
  it("is, are, has, not and no chain, dotted or underscored", function()
    assert.is.equal(1, 1)
    assert.are.equal(1, 1)
    assert.is_not.equal(1, 2)
    assert.are_not.same({ 1 }, { 2 })
    assert.has_no.errors(function() end)
    assert.has.errors(function() error("x") end)
    assert.is.Not.Nil(0)
    assert.no.error(function() end)
    fails(function() assert.is.equal(1, 2) end, "Expected objects to be equal")
    fails(function() assert.is_not.equal(1, 1) end, "Expected objects to not be equal")
    fails(function() assert.has_no.errors(function() error("x") end) end, "Expected no error, but caught")
    fails(function() assert.not_nil(nil) end, "Did not expect:\nnil")
    fails(function() assert.no.error(function() error("y") end) end, "Expected no error")
  end)

  it("a message of the caller replaces luassert's", function()
    fails(function() assert.equal(1, 2, "one is not two") end, "one is not two")
    fails(function() assert.same({ 1 }, { 2 }, "lists differ") end, "lists differ")
    fails(function() assert.is_true(false, "not true") end, "not true")
    fails(function() assert.message("via modifier").is_nil(1) end, "via modifier")
  end)

  it("failures name the spec line", function()
    local msg = fails(function() assert.equal(1, 2) end)
    assert.matches("luassert_spec.lua:%d+: Expected", msg)
  end)
end)

describe("luassert assertions", function()
  it("equal compares with ==", function()
    assert.equal("a", "a")
    assert.equals(1, 1)
    fails(function() assert.equal({}, {}) end, "Expected objects to be equal")
    fails(function() assert.equals("a", "b") end, "Passed in:\n(string) 'b'\nExpected:\n(string) 'a'")
  end)

  it("same compares deeply and marks the first difference", function()
    assert.same({ a = { 1, 2 }, b = "x" }, { a = { 1, 2 }, b = "x" })
    local msg = fails(function() assert.same({ a = { b = 1 }, c = 2 }, { a = { b = 9 }, c = 2 }) end,
      "Expected objects to be the same.")
    -- the differing key is marked in both values
    assert.matches("Passed in:\n%(table%) {\n %*%[a%] = {\n   %*%[b%] = 9 }", msg)
    assert.matches("Expected:\n%(table%) {\n %*%[a%] = {\n   %*%[b%] = 1 }", msg)
    fails(function() assert.not_same({ 1 }, { 1 }) end, "Expected objects to not be the same")
    fails(function() assert.same(1, "1") end, "Passed in:\n(string) '1'\nExpected:\n(number) 1")
  end)

  it("truthy, falsy, True, False, nil", function()
    assert.truthy(0)
    assert.falsy(nil)
    assert.is_true(true)
    assert.is_false(false)
    assert.True(true)
    assert.False(false)
    assert.is_nil(nil)
    fails(function() assert.truthy(false) end, "Expected to be truthy, but value was:\n(boolean) false")
    fails(function() assert.falsy(0) end, "Expected to be falsy")
    fails(function() assert.is_true(1) end, "Expected:\ntrue")
    fails(function() assert.is_false(nil) end, "Expected:\nfalse")
    fails(function() assert.is_nil(false) end, "Expected:\nnil")
  end)

  it("type checks", function()
    assert.is_table({})
    assert.is_string("")
    assert.is_number(1)
    assert.is_boolean(false)
    assert.is_function(print)
    assert.is_thread(coroutine.create(function() end))
    fails(function() assert.is_table("x") end, "Expected (string) 'x' to be a table")
    fails(function() assert.is_string(1) end, "to be a string")
    fails(function() assert.is_number("1") end, "to be a number")
    fails(function() assert.is_boolean(nil) end, "to be a boolean")
    fails(function() assert.is_function({}) end, "to be a function")
    fails(function() assert.is_thread(print) end, "to be a thread")
    fails(function() assert.is_not_table({}) end, "to not be a table")
  end)

  it("matches and match", function()
    assert.matches("^kong", "kong.db")
    assert.match("%.db$", "kong.db")
    assert.matches("a.b", "a.b", 1, true)
    assert.does_not.match("^ngx", "kong.db")
    fails(function() assert.matches("^ngx", "kong.db") end, "Expected strings to match.\nPassed in:\n(string) 'kong.db'")
    fails(function() assert.matches("a.b", "axb", 1, true) end, "Expected strings to match")
    fails(function() assert.not_matches("kong", "kong.db") end, "Expected strings not to match")
    fails(function() assert.matches("x", nil) end, "Expected strings to match")
  end)

  it("near and unique", function()
    assert.near(1, 1.05, 0.1)
    assert.unique({ 1, 2, { 3 } })
    fails(function() assert.near(1, 1.5, 0.1) end, "Expected values to be near")
    fails(function() assert.unique({ { 1 }, { 1 } }) end, "Expected object to be unique")
  end)

  it("has_error with and without the expected error", function()
    assert.has_error(function() error("boom") end)
    assert.has_error(function() error("boom") end, "boom")
    assert.has_error(function() error({ code = 1 }) end, { code = 1 })
    fails(function() assert.has_error(function() end) end, "Expected an error to be thrown, but none was")
    fails(function() assert.has_error(function() error("boom") end, "bang") end,
      "Expected a different error.\nCaught:\n(string) '")
    fails(function() assert.has_error(function() error({ code = 1 }) end, { code = 2 }) end, "Expected a different error")
    fails(function() assert.has_error("not a function") end, "Expected a function")
  end)

  it("error_matches", function()
    assert.error_matches(function() error("the answer is 42") end, "answer is %d+")
    assert.has_no.error_matches(function() error("x") end, "^y")
    fails(function() assert.error_matches(function() error("the answer") end, "question") end,
      "Expected strings to match.\nPassed in:\n(string) '")
    fails(function() assert.error_matches(function() end, "x") end, "Expected an error to be thrown, but none was")
  end)
end)

describe("assert:register and say", function()
  it("registers an assertion whose messages come from say", function()
    local function has_property(state, arguments)
      local property, t = arguments[1], arguments[2]
      return type(t) == "table" and t[property] ~= nil
    end
    say:set("assertion.has_property.positive", "Expected property %s in:\n%s")
    say:set("assertion.has_property.negative", "Expected property %s to not be in:\n%s")
    assert:register("assertion", "has_property", has_property, "assertion.has_property.positive",
      "assertion.has_property.negative")
    assert.has_property("name", { name = "jack" })
    assert.has.property("name", { name = "jack" })
    assert.has_no.property("age", { name = "jack" })
    assert.is_not.has_property("age", { name = "jack" })
    fails(function() assert.has_property("age", { name = "jack" }) end,
      "Expected property (string) 'age' in:\n(table) {\n  [name] = 'jack' }")
    fails(function() assert.has_no.property("name", { name = "jack" }) end, "Expected property (string) 'name' to not be in")
  end)

  it("registers a modifier whose state the assertion reads, and returns its values", function()
    assert:register("modifier", "response", function(state, arguments)
      rawset(state, "response", arguments[1])
      return state
    end)
    say:set("assertion.status_is.positive", "Expected status %s, got %s")
    say:set("assertion.status_is.negative", "Expected a status other than %s")
    assert:register("assertion", "status_is", function(state, args)
      local res = rawget(state, "response")
      local ok = res.status == args[1]
      args[2], args.n = res.status, 2
      return ok, { res.body }
    end, "assertion.status_is.positive", "assertion.status_is.negative")
    local body = assert.response({ status = 200, body = "hi" }).has.status_is(200)
    assert.equal("hi", body)
    assert.response({ status = 404 }).has_not.status_is(200)
    fails(function() assert.response({ status = 500 }).has.status_is(200) end, "Expected status (number) 200, got (number) 500")
    fails(function() assert.response({ status = 200 }).has_not.status_is(200) end, "Expected a status other than")
  end)

  it("formatters and parameters change how values are shown", function()
    local function upper(v)
      if type(v) == "string" then return "<" .. v:upper() .. ">" end
    end
    assert:add_formatter(upper)
    fails(function() assert.equal("a", "b") end, "Passed in:\n<B>\nExpected:\n<A>")
    assert:remove_formatter(upper)
    fails(function() assert.equal("a", "b") end, "Passed in:\n(string) 'b'")
    local level = assert:get_parameter("TableFormatLevel")
    assert:set_parameter("TableFormatLevel", 1)
    fails(function() assert.same({ a = { b = 1 } }, {}) end, "[a] = { ... more }")
    assert:set_parameter("TableFormatLevel", level)
  end)

  it("say formats its messages and switches namespaces", function()
    say:set("greeting", "hello %s")
    assert.equal("hello world", say("greeting", { "world" }))
    say:set_namespace("fr")
    say:set("greeting", "bonjour %s")
    assert.equal("bonjour monde", say("greeting", { "monde" }))
    say:set_namespace("en")
    assert.equal("hello you", say("greeting", { "you" }))
    assert.is_nil(say("no.such.key"))
  end)
end)

describe("spies", function()
  it("spy.new records calls, arguments and return values", function()
    local s = spy.new(function(a, b) return a + b end)
    assert.equal(3, s(1, 2))
    s(5, 5)
    assert.spy(s).was.called()
    assert.spy(s).was.called(2)
    assert.spy(s).was_called_with(1, 2)
    assert.spy(s).was.returned_with(10)
    assert.spy(s).was_not.called_with(3, 3)
    assert.spy(s).called_at_least(2)
    assert.spy(s).called_at_most(2)
    assert.spy(s).called_more_than(1)
    assert.spy(s).called_less_than(3)
    assert.is_true(s:called(2))
    assert.is_true(s:called_with({ 1, 2 }))
    fails(function() assert.spy(s).was.called(3) end, "Expected to be called 3 time(s), but was called 2 time(s)")
    fails(function() assert.spy(s).was.called_with(1, 3) end,
      "Function was never called with matching arguments.\nCalled with (last call if any):\n((number) 5, (number) 5)\nExpected:\n((number) 1, (number) 3)")
    fails(function() assert.spy(s).was.returned_with(4) end, "Function never returned matching arguments")
    fails(function() assert.spy(s).was_not.called() end, "Expected not to be called exactly any time(s)")
    fails(function() assert.spy(s).called_at_least(3) end, "at least 3")
    fails(function() assert.spy(s).called_at_most(1) end, "at most 1")
    fails(function() assert.spy(s).called_more_than(2) end, "more than 2")
    fails(function() assert.spy(s).called_less_than(2) end, "less than 2")
    s:clear()
    assert.spy(s).was_not.called()
    fails(function() assert.spy(s).was.called() end, "Expected to be called any time(s), but was called 0 time(s)")
  end)

  it("spy.on wraps a method, calls through, and reverts", function()
    local obj = { n = 0 }
    function obj.inc(by) obj.n = obj.n + by return obj.n end
    local original = obj.inc
    local s = spy.on(obj, "inc")
    assert.equal(2, obj.inc(2))
    assert.spy(obj.inc).was.called_with(2)
    assert.stub(s).was.called(1)
    fails(function() assert.spy(obj.inc).was.called_with(3) end, "never called with matching arguments")
    s:revert()
    assert.equal(original, obj.inc)
  end)

  it("spy(fn) is spy.new(fn), and spying on a non-function fails", function()
    local s = spy(function() end)
    s()
    assert.spy(s).was.called(1)
    assert.has_error(function() spy.new(42) end)
  end)
end)

describe("stubs", function()
  it("stub(obj, key) replaces the function, returns the values given, and reverts", function()
    local obj = { get = function() return "real" end }
    local s = stub(obj, "get", "fake", 2)
    local a, b = obj.get("x")
    assert.equal("fake", a)
    assert.equal(2, b)
    assert.stub(obj.get).was.called_with("x")
    fails(function() assert.stub(obj.get).was.called_with("y") end, "never called with matching arguments")
    s.returns("other")
    assert.equal("other", obj.get())
    s.invokes(function(x) return x * 2 end)
    assert.equal(8, obj.get(4))
    s.on_call_with("special").returns("matched")
    assert.equal("matched", obj.get("special"))
    assert.equal(6, obj.get(3))
    s:revert()
    assert.equal("real", obj.get())
  end)

  it("a stub with no values returns nothing and never calls the original", function()
    local called = false
    local obj = { f = function() called = true return 1 end }
    stub(obj, "f")
    assert.is_nil(obj.f())
    assert.is_false(called)
    fails(function() assert.is_true(called) end, "Expected:\ntrue")
    obj.f:revert()
  end)
end)

describe("mocks", function()
  it("mock(t) spies on every function, nested tables too, and mock.revert restores", function()
    local t = { add = function(a, b) return a + b end, inner = { name = function() return "n" end }, value = 1 }
    local add, name = t.add, t.inner.name
    local m = mock(t)
    assert.equal(t, m)
    assert.equal(3, t.add(1, 2))
    assert.equal("n", t.inner.name())
    assert.spy(t.add).was.called_with(1, 2)
    assert.spy(t.inner.name).was.called(1)
    fails(function() assert.spy(t.add).was.called(2) end, "Expected to be called 2 time(s)")
    mock.revert(t)
    assert.equal(add, t.add)
    assert.equal(name, t.inner.name)
  end)

  it("mock(t, true) stubs: originals are not called", function()
    local t = { f = function() return "real" end }
    mock(t, true)
    assert.is_nil(t.f())
    assert.stub(t.f).was.called()
    mock.revert(t)
    assert.equal("real", t.f())
  end)
end)

describe("matchers", function()
  it("match._, match.is_<type>(), is_same, matches, is_not, is_ref, combinators", function()
    local s = spy.new(function() end)
    local ref = {}
    s("kong", { a = 1 }, 42, ref)
    assert.spy(s).was.called_with(match._, match._, match._, match._)
    assert.spy(s).was.called_with(match.is_string(), match.is_table(), match.is_number(), match.is_ref(ref))
    assert.spy(s).was.called_with("kong", match.is_same({ a = 1 }), match.is_not.is_string(), match._)
    assert.spy(s).was.called_with(match.matches("^ko"), match.is_not_nil(), match.is_equal(42), ref)
    assert.spy(s).was.called_with(match.is_all_of(match.is_string(), match.matches("ng$")),
      match.is_any_of(match.is_string(), match.is_table()), match.is_none_of(match.is_string()), match._)
    fails(function() assert.spy(s).was.called_with(match.is_number(), match._, match._, match._) end,
      "never called with matching arguments")
    fails(function() assert.spy(s).was.called_with("kong", match.is_same({ a = 2 }), match._, match._) end,
      "never called with matching arguments")
    fails(function() assert.spy(s).was.called_with("kong", match._, match._, match.is_ref({})) end,
      "never called with matching arguments")
    fails(function() assert.spy(s).was.called_with(match._, match._, match._) end, "never called with matching arguments")
    fails(function() assert.spy(s).was.called_with(match.is_none_of(match.is_string()), match._, match._, match._) end,
      "never called with matching arguments")
  end)

  it("registered matchers are found by name", function()
    assert:register("matcher", "even", function(state, args)
      return function(v) return type(v) == "number" and v % 2 == 0 end
    end)
    local s = spy.new(function() end)
    s(4)
    assert.spy(s).was.called_with(match.is_even())
    fails(function() assert.spy(s).was.called_with(match.is_not.even()) end, "never called with matching arguments")
  end)
end)

describe("luassert's modules", function()
  it("luassert.assert is the global assert: registering on it reaches specs", function()
    local luassert = require "luassert.assert"
    assert.equal(assert, luassert)
    luassert:register("assertion", "is_answer", function(_, args) return args[1] == 42 end,
      "assertion.is_answer.positive", "assertion.is_answer.negative")
    require("say"):set("assertion.is_answer.positive", "Expected %s to be the answer")
    assert.is_answer(42)
    fails(function() assert.is_answer(41) end, "Expected (number) 41 to be the answer")
  end)

  it("luassert.util compares deeply and keeps n", function()
    local util = require "luassert.util"
    assert.is_true(util.deepcompare({ a = { 1 } }, { a = { 1 } }))
    assert.is_false(util.deepcompare({ a = { 1 } }, { a = { 2 } }))
    local t = { n = 1, "a" }
    util.tinsert(t, "b")
    assert.same({ n = 2, "a", "b" }, t)
    assert.equal("a", util.tremove(t, 1))
    assert.same({ n = 1, "b" }, t)
    fails(function() assert.same({ n = 3 }, t) end, "Expected objects to be the same")
  end)
end)

describe("assert's methods called with a dot", function()
  it("set_parameter(name, value) as well as :set_parameter", function()
    local level = assert:get_parameter("TableFormatLevel")
    assert.set_parameter("TableFormatLevel", 7)
    assert.equal(7, assert.get_parameter("TableFormatLevel"))
    fails(function() assert.equal(8, assert:get_parameter("TableFormatLevel")) end, "Expected objects to be equal")
    assert:set_parameter("TableFormatLevel", level)
  end)
end)
