-- constants of the services Kong's specs expect beside the node; the Go
-- test sets KONG_SPEC_TEST_REDIS_PORT=6390 and _SSL_SNI=sni.test and
-- clears the others
local helpers = require "spec.helpers"
local constants = require "spec.internal.constants"

describe("spec.helpers constants", function()
  it("redis_* from KONG_SPEC_TEST_REDIS_*, else Kong's defaults", function()
    assert.equal("localhost", helpers.redis_host)
    assert.equal(6390, helpers.redis_port)
    assert.equal(6380, helpers.redis_ssl_port)
    assert.equal(6385, helpers.redis_auth_port)
    assert.equal("sni.test", helpers.redis_ssl_sni)
    assert.equal(6390, constants.REDIS_PORT)
  end)

  it("zipkin, otelcol, blackhole and paths", function()
    assert.equal("localhost", helpers.zipkin_host)
    assert.equal(9411, helpers.zipkin_port)
    assert.equal("localhost", helpers.otelcol_host)
    assert.equal(4318, helpers.otelcol_http_port)
    assert.equal("./tmp/otel/file_exporter.json", helpers.otelcol_file_exporter_path)
    assert.equal("10.255.255.255", helpers.blackhole_host)
    assert.equal("bin/kong", helpers.bin_path)
    assert.equal("./spec/fixtures/external_plugins", helpers.external_plugins_path)
  end)
end)
