-- sni-cert: serves its configuration's certificate to handshakes naming
-- conf.sni, as Kong's acme plugin serves the certificates it obtained
-- (ngx.ssl.clear_certs, set_der_cert, set_der_priv_key in the certificate
-- phase).
local ngx_ssl = require "ngx.ssl"

local H = { PRIORITY = 1000, VERSION = "1.0.0" }

function H:certificate(conf)
  if ngx_ssl.server_name() ~= conf.sni then
    return
  end
  local cert = assert(ngx_ssl.cert_pem_to_der(conf.cert))
  local key = assert(ngx_ssl.priv_key_pem_to_der(conf.key))
  assert(ngx_ssl.clear_certs())
  assert(ngx_ssl.set_der_cert(cert))
  assert(ngx_ssl.set_der_priv_key(key))
end

return H
