-- mtls-echo: requests the client's certificate in the certificate phase,
-- with its configuration's CA certificates as the list sent to the client
-- (a resty.openssl.x509.chain, as Kong's mtls plugins build it), and
-- answers the chain the client presented in a response header.
local x509 = require "resty.openssl.x509"
local chain_lib = require "resty.openssl.x509.chain"

local H = { PRIORITY = 1000, VERSION = "1.0.0" }

function H:certificate(conf)
  if conf.fail then
    error("certificate phase failure")
  end
  local chain = chain_lib.new()
  for _, pem in ipairs(conf.ca_pems) do
    assert(chain:add(assert(x509.new(pem))))
  end
  local ok, err = kong.client.tls.request_client_certificate(chain.ctx)
  if not ok then
    kong.log.err("could not request the client certificate: ", err)
  end
  -- the certificate phase's ngx.ctx is not the request's
  ngx.ctx.from_certificate = "set"
  if conf.exit then
    -- ngx.OK ends the phase, another status fails the handshake
    ngx.exit(conf.exit)
  end
end

function H:access(conf)
  local chain, err = kong.client.tls.get_full_client_certificate_chain()
  kong.response.set_header("X-Client-Chain", chain and ngx.encode_base64(chain) or "none")
  kong.response.set_header("X-Client-Chain-Err", err or "none")
  kong.response.set_header("X-Ctx-From-Certificate", tostring(ngx.ctx.from_certificate))
end

return H
