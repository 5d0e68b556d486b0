-- kong.tools.ip and the header/cookie name checks of kong.tools.string
-- (2.x) and kong.tools.http: results and messages as Kong's (kong/tools/
-- ip.lua with lua-resty-ipmatcher), from the one Go definition the
-- typedefs' validators use too.

describe("kong.tools.ip", function()
  local ip = require "kong.tools.ip"

  it("tells addresses and ranges apart", function()
    local cases = {
      -- input, ipv4, ipv6, ip, cidr_v4, cidr_v6, cidr, ip_or_cidr_v4, ip_or_cidr_v6, ip_or_cidr
      { "1.2.3.4",          true,  false, true,  false, false, false, true,  false, true },
      { "255.255.255.255",  true,  false, true,  false, false, false, true,  false, true },
      { "256.1.1.1",        false, false, false, false, false, false, false, false, false },
      { "01.2.3.4",         false, false, false, false, false, false, false, false, false },
      { "1.2.3",            false, false, false, false, false, false, false, false, false },
      { "::1",              false, true,  true,  false, false, false, false, true,  true },
      { "::ffff:1.2.3.4",   false, true,  true,  false, false, false, false, true,  true },
      { "fe80::1%eth0",     false, false, false, false, false, false, false, false, false },
      { "10.0.0.0/8",       false, false, false, true,  false, true,  true,  false, true },
      { "10.0.0.0/0",       false, false, false, true,  false, true,  true,  false, true },
      { "10.0.0.0/33",      false, false, false, false, false, false, false, false, false },
      { "10.0.0.0/08",      false, false, false, false, false, false, false, false, false },
      { "10.0.0.0/+8",      false, false, false, false, false, false, false, false, false },
      { "10.0.0.0/",        false, false, false, false, false, false, false, false, false },
      { "10.0.0.0/8/9",     false, false, false, false, false, false, false, false, false },
      { "::/0",             false, false, false, false, true,  true,  false, true,  true },
      { "2001:db8::/128",   false, false, false, false, true,  true,  false, true,  true },
      { "2001:db8::/129",   false, false, false, false, false, false, false, false, false },
      { "",                 false, false, false, false, false, false, false, false, false },
      { "a.b.c.d",          false, false, false, false, false, false, false, false, false },
    }
    local fns = { "is_valid_ipv4", "is_valid_ipv6", "is_valid_ip", "is_valid_cidr_v4", "is_valid_cidr_v6",
                  "is_valid_cidr", "is_valid_ip_or_cidr_v4", "is_valid_ip_or_cidr_v6", "is_valid_ip_or_cidr" }
    for _, c in ipairs(cases) do
      for i, fn in ipairs(fns) do
        assert.equal(c[i + 1], ip[fn](c[1]), fn .. "(" .. c[1] .. ")")
      end
    end
    -- not a string: false, as Kong's validate()
    for _, fn in ipairs(fns) do
      assert.is_false(ip[fn](1234))
      assert.is_false(ip[fn](nil))
      assert.is_false(ip[fn]({}))
    end
  end)

  it("guesses hostname types", function()
    assert.equal("ipv4", ip.hostname_type("1.2.3.4"))
    assert.equal("ipv4", ip.hostname_type("1.2.3.4:80"))
    assert.equal("ipv4", ip.hostname_type("999.1"))
    assert.equal("ipv6", ip.hostname_type("::1"))
    assert.equal("ipv6", ip.hostname_type("[::1]:80"))
    assert.equal("name", ip.hostname_type("example.com"))
    assert.equal("name", ip.hostname_type("example.com:80"))
    assert.equal("name", ip.hostname_type(""))
  end)

  it("normalizes addresses with Kong's messages", function()
    local function n(f, a) return { ip[f](a) } end
    assert.same({ "1.2.3.4" }, n("normalize_ipv4", "1.2.3.4"))
    assert.same({ "1.2.3.4", 80 }, n("normalize_ipv4", "001.2.3.4:80"))
    assert.same({ nil, "invalid ipv4 address: 1.2.3.4:" }, n("normalize_ipv4", "1.2.3.4:"))
    assert.same({ nil, "invalid ipv4 address: 256.2.3.4" }, n("normalize_ipv4", "256.2.3.4"))
    assert.same({ nil, "invalid port number" }, n("normalize_ipv4", "1.2.3.4:65536"))
    assert.same({ "0000:0000:0000:0000:0000:0000:0000:0001" }, n("normalize_ipv6", "::1"))
    assert.same({ "0000:0000:0000:0000:0000:0000:0000:0001", 80 }, n("normalize_ipv6", "[::1]:80"))
    assert.same({ "2001:0db8:0000:0000:0000:0000:0000:abcd" }, n("normalize_ipv6", "2001:DB8::ABCD"))
    assert.same({ nil, "invalid ipv6 address" }, n("normalize_ipv6", "[::1]x"))
    assert.same({ nil, "invalid port number" }, n("normalize_ipv6", "[::1]:70000"))
    assert.same({ nil, "invalid ipv6 address: 1::2::3:g" }, n("normalize_ipv6", "1::2::3:g"))
    assert.same({ "example.com", 8000 }, n("check_hostname", "example.com:8000"))
    assert.same({ "my_host-1.example" }, n("check_hostname", "my_host-1.example"))
    assert.same({ "example.com." }, n("check_hostname", "example.com."))
    assert.same({ nil, "invalid hostname: bad-.example" }, n("check_hostname", "bad-.example"))
    assert.same({ nil, "invalid hostname: a..b" }, n("check_hostname", "a..b"))
    assert.same({ nil, "invalid hostname: ex ample" }, n("check_hostname", "ex ample"))
    assert.same({ nil, "invalid port number" }, n("check_hostname", "example.com:99999"))
  end)

  it("normalizes and formats hosts", function()
    assert.same({ type = "ipv4", host = "1.2.3.4", port = 80 }, ip.normalize_ip("1.2.3.4:80"))
    assert.same({ type = "ipv6", host = "0000:0000:0000:0000:0000:0000:0000:0001" }, ip.normalize_ip("::1"))
    assert.same({ type = "name", host = "example.com" }, ip.normalize_ip("example.com"))
    local res, err = ip.normalize_ip("bad host")
    assert.is_nil(res)
    assert.equal("invalid hostname: bad host", err)
    assert.equal("1.2.3.4:80", ip.format_host("1.2.3.4", 80))
    assert.equal("[0000:0000:0000:0000:0000:0000:0000:0001]:80", ip.format_host("::1", 80))
    assert.equal("[::1]", ip.format_host("[::1]"))
    assert.equal("example.com:8000", ip.format_host(ip.normalize_ip("example.com:8000")))
    assert.same({ nil, "cannot format type 'boolean'" }, { ip.format_host(true) })
  end)
end)

describe("header and cookie names", function()
  local http = require "kong.tools.http"
  local str = require "kong.tools.string"

  it("validate as Kong 3 (kong.tools.http)", function()
    assert.equal("X-Header_1", http.validate_header_name("X-Header_1"))
    assert.same({ nil, "no header name provided" }, { http.validate_header_name(nil) })
    assert.same({ nil, "bad header name 'a.b', allowed characters are A-Z, a-z, 0-9, '_', and '-'" },
                { http.validate_header_name("a.b") })
    assert.equal("tok~en!", http.validate_http_token("tok~en!"))
    assert.same({ nil, "no token provided" }, { http.validate_cookie_name("") })
    assert.is_nil((http.validate_http_token("caf\195\169")))
  end)

  it("validate as Kong 2 (kong.tools.string)", function()
    assert.equal("session_id-2", str.validate_cookie_name("session_id-2"))
    assert.same({ nil, "bad cookie name 'a b', allowed characters are A-Z, a-z, 0-9, '_', and '-'" },
                { str.validate_cookie_name("a b") })
    assert.same({ nil, "no cookie name provided" }, { str.validate_cookie_name("") })
    assert.same({ nil, "no header name provided" }, { str.validate_header_name(nil) })
  end)
end)
