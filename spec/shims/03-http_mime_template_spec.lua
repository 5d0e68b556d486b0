-- kong.tools.http, kong.tools.mime_type and pl.template shims.

describe("kong.tools.http", function()
  local http = require "kong.tools.http"

  it("encodes args sorted, escaped and nested", function()
    assert.equal("a=1&b=x%20y&c=true&d", http.encode_args({ b = "x y", a = 1, c = true, d = "" }))
    assert.equal("e=", http.encode_args({ e = ngx.null }))
    assert.equal("l%5b1%5d=x&l%5b2%5d=y&r%2eq=1", http.encode_args({ l = { "x", "y" }, r = { q = 1 } }))
    assert.equal("l[]=x&l[]=y", http.encode_args({ l = { "x", "y" } }, true, true))
    assert.equal("k=a b", http.encode_args({ k = "a b" }, true))
    -- raw nested values that are not strings, as Kong's string.format("%s=%s") writes them
    assert.equal("l[]=true&l[]=false&p.enabled=true&p.n=5", http.encode_args({ p = { enabled = true, n = 5 }, l = { true, false } }, true, true))
  end)

  it("decodes args", function()
    local d = http.decode_args({ a = "", b = "true", c = "false", d = { ["1"] = "x", ["2"] = "y" },
                                 e = { ["1"] = "x", ["3"] = "y" }, f = "s" })
    assert.equal(ngx.null, d.a)
    assert.is_true(d.b)
    assert.is_false(d.c)
    assert.same({ "x", "y" }, d.d)
    assert.same({ ["1"] = "x", ["3"] = "y" }, d.e)
    assert.equal("s", d.f)
  end)

  it("validates header names and tokens with Kong's messages", function()
    assert.equal("X-My_Header-1", http.validate_header_name("X-My_Header-1"))
    local ok, err = http.validate_header_name("bad header")
    assert.is_nil(ok)
    assert.equal("bad header name 'bad header', allowed characters are A-Z, a-z, 0-9, '_', and '-'", err)
    ok, err = http.validate_header_name("")
    assert.is_nil(ok)
    assert.equal("no header name provided", err)
    assert.equal("session", http.validate_cookie_name("session"))
    ok, err = http.validate_http_token("a;b")
    assert.is_nil(ok)
    assert.equal("contains one or more invalid characters. ASCII control characters (0-31;127), " ..
                 "space, tab and the characters ()<>@,;:\\\"/?={}[] are not allowed.", err)
    assert.is_nil((http.validate_http_token("a\127")))
    assert.is_nil((http.validate_http_token("a]")))
  end)

  it("parses directive headers", function()
    assert.same({ public = true, ["max-age"] = 3600, ["no-cache"] = '"x"' },
                http.parse_directive_header('Public, max-age=3600,no-cache="x"'))
    assert.same({ private = true, ["s-maxage"] = 5 },
                http.parse_directive_header({ "private", "s-maxage=5" }))
    assert.same({}, http.parse_directive_header(nil))
  end)

  it("computes the resource ttl from cache-control", function()
    assert.equal(10, http.calculate_resource_ttl({ ["s-maxage"] = 10, ["max-age"] = 20 }))
    assert.equal(20, http.calculate_resource_ttl({ ["max-age"] = 20 }))
    assert.equal(0, http.calculate_resource_ttl({ ["max-age"] = -5 }))
  end)
end)

describe("kong.tools.mime_type", function()
  local mime = require "kong.tools.mime_type"

  it("parses types, subtypes and parameters", function()
    local t, st, p = mime.parse_mime_type("Application/JSON; Charset=utf-8; q=1")
    assert.equal("application", t)
    assert.equal("json", st)
    assert.same({ charset = "utf-8", q = "1" }, p)
    t, st, p = mime.parse_mime_type('text/plain; name="a \\"b\\";c"')
    assert.equal("text", t)
    assert.same({ name = 'a \\"b\\";c' }, p)
    t, st = mime.parse_mime_type("*")
    assert.equal("*", t)
    assert.equal("*", st)
    assert.is_nil(mime.parse_mime_type("text"))
    assert.is_nil(mime.parse_mime_type("text/plain;"))
    assert.is_nil(mime.parse_mime_type("text/plain extra"))
  end)

  it("tells inclusion", function()
    local json = { type = "application", subtype = "json" }
    assert.is_true(mime.includes({ type = "*", subtype = "*" }, json))
    assert.is_true(mime.includes({ type = "application", subtype = "*" }, json))
    assert.is_true(mime.includes(json, { type = "application", subtype = "vnd.api+json" }))
    assert.is_false(mime.includes(json, { type = "text", subtype = "json" }))
    assert.is_false(mime.includes({ type = "application", subtype = "a+json" },
                                  { type = "application", subtype = "b+json" }))
    local ok, err = pcall(mime.includes, nil, json)
    assert.is_false(ok)
    assert.matches("this must be a table", err, 1, true)
  end)
end)

describe("pl.template", function()
  local template = require "pl.template"
  local opts = { escape = "\xff" }

  -- nil renders as "" (Penlight: tostring(expr or ""))
  it("renders inline expressions from the environment", function()
    local t = assert(template.compile("Hello $(name)! $(a.b or 'x') $(1 + 2) $((f(2)))", opts))
    assert.equal("Hello w! x 3 4", t:render({ name = "w", a = {}, f = function(n) return n * 2 end }))
    assert.equal("Hello ! y 3 4", t:render({ a = { b = "y" }, f = function(n) return n * 2 end }))
    assert.equal("plain $ text $x", assert(template.compile("plain $ text $x", opts)):render({}))
  end)

  it("looks names up in the parent", function()
    local t = assert(template.compile("$(a)-$(b)", opts))
    assert.equal("1-2", t:render({ a = 1 }, { b = 2 }))
  end)

  it("runs code lines with the default escape", function()
    assert.equal("1,\n2,\n3,\n", template.substitute("# for i = 1, 3 do\n$(i),\n# end\n", {}))
  end)

  it("reports compile and render errors", function()
    local t, err = template.compile("a $(b c) d", opts)
    assert.is_nil(t)
    assert.is_string(err)
    local bad = assert(template.compile("$(x.y)", opts))
    local res, rerr = bad:render({})
    assert.is_nil(res)
    assert.matches("attempt to index", rerr, 1, true)
  end)
end)
