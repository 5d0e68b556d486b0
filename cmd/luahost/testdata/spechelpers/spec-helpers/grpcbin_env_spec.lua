-- KONG_SPEC_TEST_GRPCBIN_* name another grpcbin, as in Kong's constants
-- (the Go test sets HOST=grpcbin.test and SSL_PORT=19001)
local helpers = require "spec.helpers"

describe("grpcbin constants from the environment", function()
  it("take the host and ports given, Kong's defaults for the others", function()
    assert.equal("grpcbin.test", helpers.grpcbin_host)
    assert.equal(9000, helpers.grpcbin_port)
    assert.equal(19001, helpers.grpcbin_ssl_port)
    assert.equal("grpc://grpcbin.test:9000", helpers.grpcbin_url)
    assert.equal("grpcs://grpcbin.test:19001", helpers.grpcbin_ssl_url)
    assert.equal(19001, require("spec.internal.constants").GRPCBIN_SSL_PORT)
  end)
end)
