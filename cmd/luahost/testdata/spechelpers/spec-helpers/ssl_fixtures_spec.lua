-- spec.fixtures.ssl: Kong's keys, certificates and SNIs made from them
-- with bp, and the proxy serving each by its name (checked with
-- openssl s_client, as Kong's own ssl specs do)
local helpers = require "spec.helpers"
local ssl_fixtures = require "spec.fixtures.ssl"

local function get_cert(server_name)
  local _, _, stdout = assert(helpers.execute(string.format(
    "echo 'GET /' | openssl s_client -connect 127.0.0.1:%d -servername %s",
    helpers.get_proxy_port(true), server_name)))
  return stdout
end

describe("spec.fixtures.ssl", function()
  lazy_setup(function()
    local bp = helpers.get_db_utils("off", { "routes", "services", "certificates", "snis", "ca_certificates" })
    local s = bp.services:insert({ url = helpers.mock_upstream_url })
    bp.routes:insert({ hosts = { "ssl-example.com", "ssl-alt.com" }, service = s })
    local c = bp.certificates:insert({ cert = ssl_fixtures.cert, key = ssl_fixtures.key,
      cert_alt = ssl_fixtures.cert_ecdsa, key_alt = ssl_fixtures.key_ecdsa })
    bp.snis:insert({ name = "ssl-example.com", certificate = c })
    local alt = bp.certificates:insert({ cert = ssl_fixtures.cert_alt, key = ssl_fixtures.key_alt })
    bp.snis:insert({ name = "ssl-alt.com", certificate = alt })
    -- the client chain and the CA are accepted as Kong accepts them
    bp.certificates:insert({ cert = ssl_fixtures.cert_client, key = ssl_fixtures.key_client })
    bp.certificates:insert({ cert = ssl_fixtures.cert_client2, key = ssl_fixtures.key_client2 })
    bp.certificates:insert({ cert = ssl_fixtures.cert_alt_alt, key = ssl_fixtures.key_alt_alt,
      cert_alt = ssl_fixtures.cert_alt_alt_ecdsa, key_alt = ssl_fixtures.key_alt_alt_ecdsa })
    bp.ca_certificates:insert({ cert = ssl_fixtures.cert_ca })
    assert(helpers.start_kong({ database = "off" }))
  end)
  lazy_teardown(function() helpers.stop_kong() end)

  it("has Kong's keys as PEM text", function()
    for _, k in ipairs({ "cert", "cert_ecdsa", "cert_alt", "cert_alt_ecdsa", "cert_alt_alt",
      "cert_alt_alt_ecdsa", "cert_client", "cert_client2", "cert_ca" }) do
      assert.matches("^%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-\n", ssl_fixtures[k])
      assert.matches("%-%-%-%-%-END CERTIFICATE%-%-%-%-%-$", ssl_fixtures[k])
      local key = ssl_fixtures[(k:gsub("^cert", "key"))]
      assert.matches("^%-%-%-%-%-BEGIN [A-Z ]*PRIVATE KEY%-%-%-%-%-\n", key)
    end
    assert.matches("^%-%-%-%-%-BEGIN DH PARAMETERS", ssl_fixtures.dhparam)
    -- the same set for every require in the run
    package.loaded["spec.fixtures.ssl"] = nil
    assert.equal(ssl_fixtures.cert, require("spec.fixtures.ssl").cert)
  end)

  it("the proxy serves each certificate by its SNI", function()
    assert.matches("CN%s*=%s*ssl%-example%.com", get_cert("ssl-example.com"))
    assert.matches("CN%s*=%s*ssl%-alt%.com", get_cert("ssl-alt.com"))
  end)

  it("proxies over TLS with the fixture's name", function()
    local c = helpers.proxy_ssl_client(nil, "ssl-example.com")
    assert.res_status(200, c:get("/request", { headers = { host = "ssl-example.com" } }))
    c:close()
  end)
end)
