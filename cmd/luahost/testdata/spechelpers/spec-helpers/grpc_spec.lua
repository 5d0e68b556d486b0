-- Kong's gRPC test surface: the grpcbin constants, grpc_client and
-- proxy_client_grpc(s) through a node's proxy, in the call shapes Kong's
-- own specs use
local helpers = require "spec.helpers"
local cjson = require "cjson"

describe("gRPC spec helpers [#off]", function()
  local route, grpc, grpcs

  lazy_setup(function()
    local bp = helpers.get_db_utils("off", { "routes", "services", "plugins" }, { "add-header", "need-key" })
    local svc = bp.services:insert({ name = "grpc", url = helpers.grpcbin_url })
    route = bp.routes:insert({ protocols = { "grpc", "grpcs" }, hosts = { "grpc" }, service = svc })
    bp.plugins:insert({ name = "add-header", route = { id = route.id },
      config = { request_header = "x-to-grpcbin", response_header = "x-from-plugin" } })
    local svcs = bp.services:insert({ name = "grpcs", url = helpers.grpcbin_ssl_url })
    bp.routes:insert({ protocols = { "grpcs" }, hosts = { "grpcs" }, service = svcs })
    -- key-auth's spec's shape: a grpc route by path, no -authority
    -- (strip_path on, as Kong's default: grpc_pass sends the path as is)
    local keyed = bp.routes:insert({ protocols = { "grpc" }, paths = { "/hello.HelloService/SayHello" }, service = svc })
    bp.plugins:insert({ name = "need-key", route = { id = keyed.id } })
    assert(helpers.start_kong({ database = "off", plugins = "bundled,add-header,need-key" }))
    grpc = helpers.proxy_client_grpc()
    grpcs = helpers.proxy_client_grpcs()
  end)

  lazy_teardown(function()
    helpers.stop_kong()
  end)

  it("grpcbin constants point at the run's grpcbin", function()
    assert.equal("localhost", helpers.grpcbin_host)
    assert.is_number(helpers.grpcbin_port)
    assert.is_number(helpers.grpcbin_ssl_port)
    assert.equal("grpc://localhost:" .. helpers.grpcbin_port, helpers.grpcbin_url)
    assert.equal("grpcs://localhost:" .. helpers.grpcbin_ssl_port, helpers.grpcbin_ssl_url)
    local constants = require "spec.internal.constants"
    assert.equal(helpers.grpcbin_port, constants.GRPCBIN_PORT)
    assert.equal("./spec/fixtures/grpc/hello.proto", constants.MOCK_GRPC_UPSTREAM_PROTO_PATH)
    assert.equal(require("spec.internal.client").proxy_client_grpc, helpers.proxy_client_grpc)
  end)

  it("grpc_client reaches grpcbin directly, by the default -proto", function()
    local ok, res = helpers.grpc_client("127.0.0.1", helpers.grpcbin_port, { ["-plaintext"] = true }) {
      service = "hello.HelloService.SayHello",
      body = { greeting = "direct" },
    }
    assert.truthy(ok, res)
    assert.same({ reply = "hello direct" }, cjson.decode(res))
  end)

  it("proxies grpc: the reply, and -v shows the plugin's response header", function()
    local ok, res = grpc({
      service = "hello.HelloService.SayHello",
      body = { greeting = "world!" },
      opts = { ["-authority"] = "grpc" },
    })
    assert.truthy(ok, res)
    assert.same({ reply = "hello world!" }, cjson.decode(res))

    ok, res = grpc({
      service = "hello.HelloService.SayHello",
      opts = { ["-authority"] = "grpc", ["-v"] = true, ["-H"] = "'kong-debug: 1'" },
    })
    assert.truthy(ok, res)
    assert.matches("x-from-plugin: this is on the response", res, nil, true)
    assert.matches("Request metadata to send:\nkong-debug: 1\n", res, nil, true)
    assert.matches("Response trailers received:", res, nil, true)
    assert.matches('"reply": "hello noname"', res, nil, true)
    assert.matches("Sent 0 requests and received 1 response", res, nil, true) -- no -d: none
  end)

  it("proxies grpcs, streams both ways, to the TLS grpcbin", function()
    local ok, res = grpcs({
      service = "hello.HelloService.SayHello",
      body = { greeting = "tls" },
      opts = { ["-authority"] = "grpcs" },
    })
    assert.truthy(ok, res)
    assert.same({ reply = "hello tls" }, cjson.decode(res))
    ok, res = grpcs({
      service = "hello.HelloService.BidiHello",
      body = [[
        { "greeting": "world!" }
        { "greeting": "people!" }
      ]],
      opts = { ["-authority"] = "grpc" },
    })
    assert.truthy(ok, res)
    assert.matches('"reply": "hello world!"', res, nil, true)
    assert.matches('"reply": "hello people!"', res, nil, true)
  end)

  it("reaches grpcbin.GRPCBin by reflection (-proto false), with the headers sent", function()
    local ok, res = grpc({
      service = "grpcbin.GRPCBin.DummyUnary",
      body = { f_string = "echo" },
      opts = { ["-proto"] = false, ["-authority"] = "grpc" },
    })
    assert.truthy(ok, res)
    assert.same({ fString = "echo" }, cjson.decode(res))
    ok, res = grpc({
      service = "grpcbin.GRPCBin.HeadersUnary",
      opts = { ["-proto"] = false, ["-authority"] = "grpc", ["-H"] = "'x-mine: 1'" },
    })
    assert.truthy(ok, res)
    local md = cjson.decode(res).Metadata
    assert.same({ "1" }, md["x-mine"].values)
    assert.same({ "this is on a request" }, md["x-to-grpcbin"].values)
  end)

  it("fails as grpcurl does", function()
    -- no route: Kong's gRPC answer
    local ok, res = grpc({
      service = "hello.HelloService.LotsOfReplies",
      opts = { ["-authority"] = "nowhere" },
    })
    assert.falsy(ok)
    assert.equal("ERROR:\n  Code: NotFound\n  Message: NotFound\n", res)
    -- an error status from the upstream, through the proxy
    ok, res = grpc({
      service = "grpcbin.GRPCBin.SpecificError",
      body = { code = 7, reason = "not you" },
      opts = { ["-proto"] = false, ["-authority"] = "grpc" },
    })
    assert.falsy(ok)
    assert.matches("Code: PermissionDenied", res, nil, true)
    assert.matches("Message: not you", res, nil, true)
  end)

  it("a plugin's kong.response.exit reaches the client as a gRPC status", function()
    local ok, err = helpers.proxy_client_grpc(){
      service = "hello.HelloService.SayHello",
      opts = {},
    }
    assert.falsy(ok)
    -- as from Kong: grpc-status and grpc-message, but no Content-Type, so
    -- the client goes by the HTTP status
    assert.matches("ERROR:\n  Code: Unauthenticated\n", err, nil, true)
    local res
    ok, res = helpers.proxy_client_grpc(){
      service = "hello.HelloService.SayHello",
      opts = { ["-H"] = "'apikey: kong'" },
    }
    assert.truthy(ok, res)
    assert.same({ reply = "hello noname" }, cjson.decode(res))
  end)
end)
