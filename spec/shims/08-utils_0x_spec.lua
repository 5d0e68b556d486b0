-- kong.tools.utils as 0.x plugins call it (Kong 0.5 - 0.14): every function
-- of the 0.x module is there, with 0.x's results.
describe("kong.tools.utils (0.x functions)", function()
  local utils = require "kong.tools.utils"

  it("has every function of the 0.x module", function()
    for _, name in ipairs({
      "random_string", "table_size", "table_merge", "table_contains", "is_array", "deep_copy",
      "shallow_copy", "deep_merge", "add_error", "load_module_if_exists", "get_hostname", "split",
      "strip", "encode_args", "decode_args", "check_https", "uuid", "is_valid_uuid", "concat",
      "validate_utf8", "pack", "unpack", "hostname_type", "normalize_ipv4", "normalize_ipv6",
      "check_hostname", "normalize_ip", "format_host", "validate_header_name", "validate_cookie_name",
    }) do
      assert.equal("function", type(utils[name]), name)
    end
  end)

  it("table_size counts keys, 0 for nil", function()
    assert.equal(0, utils.table_size(nil))
    assert.equal(0, utils.table_size({}))
    assert.equal(3, utils.table_size({ 1, 2, a = 3 }))
  end)

  it("get_hostname is the node's host name", function()
    local h = utils.get_hostname()
    assert.is_string(h)
    assert.equal(kong.node.get_hostname(), h)
    assert.truthy(#h > 0)
  end)

  it("tables: merge, contains, is_array, copies, concat, pack/unpack", function()
    assert.same({ a = 1, b = 3, c = 4 }, utils.table_merge({ a = 1, b = 2 }, { b = 3, c = 4 }))
    assert.is_true(utils.table_contains({ "x", "y" }, "y"))
    assert.is_false(utils.table_contains({ "x" }, "z"))
    assert.is_false(utils.table_contains(nil, "z"))
    assert.is_true(utils.is_array({ 1, 2, 3 }))
    assert.is_false(utils.is_array({ a = 1 }))
    local orig = { a = { b = 1 } }
    local deep, shallow = utils.deep_copy(orig), utils.shallow_copy(orig)
    assert.same(orig, deep)
    assert.not_equal(orig.a, deep.a)
    assert.equal(orig.a, shallow.a)
    assert.same({ 1, 2, 3 }, utils.concat({ 1, 2 }, { 3 }))
    local p = utils.pack(1, nil, 3)
    assert.equal(3, p.n)
    local a, b, c = utils.unpack(p)
    assert.equal(1, a)
    assert.is_nil(b)
    assert.equal(3, c)
  end)

  it("add_error builds a map, a list for a repeated key", function()
    local errs = utils.add_error(nil, "name", "is required")
    assert.same({ name = "is required" }, errs)
    errs = utils.add_error(errs, "name", "is too long")
    assert.same({ "is required", "is too long" }, errs.name)
  end)

  it("strings: split, strip, uuid, is_valid_uuid, random_string, validate_utf8", function()
    assert.same({ "a", "b", "c" }, utils.split("a,b,c", ","))
    assert.equal("x y", utils.strip("  x y \n"))
    local id = utils.uuid()
    assert.equal(36, #id)
    assert.is_true(utils.is_valid_uuid(id))
    assert.is_false(utils.is_valid_uuid("not-a-uuid"))
    assert.is_false(utils.is_valid_uuid(nil))
    assert.equal(32, #utils.random_string())
    assert.is_true(utils.validate_utf8("héllo"))
    assert.is_false(utils.validate_utf8("\255\254"))
  end)

  it("encode_args sorts keys and escapes values", function()
    assert.equal("a=1&b=x%20y", utils.encode_args({ b = "x y", a = 1 }))
  end)

  it("host helpers: hostname_type, normalize_ip, format_host", function()
    assert.equal("ipv4", utils.hostname_type("10.0.0.1"))
    assert.equal("ipv6", utils.hostname_type("::1"))
    assert.equal("name", utils.hostname_type("example.com"))
    local ip = utils.normalize_ip("10.0.0.1:80")
    assert.same({ type = "ipv4", host = "10.0.0.1", port = 80 }, ip)
    assert.equal("example.com:8000", utils.format_host("example.com", 8000))
  end)

  it("load_module_if_exists: false for a missing module", function()
    local ok, err = utils.load_module_if_exists("kong.plugins.no_such_plugin.handler")
    assert.is_false(ok)
    assert.is_string(err)
    local ok2, mod = utils.load_module_if_exists("kong.tools.responses")
    assert.is_true(ok2)
    assert.is_function(mod.send)
  end)
end)
