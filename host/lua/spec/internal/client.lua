-- spec.internal.client (Kong 3.x): these functions of spec.helpers
local helpers = require "spec.helpers"
return {
  http_client = helpers.http_client,
  proxy_client = helpers.proxy_client,
  admin_client = helpers.admin_client,
  proxy_ssl_client = helpers.proxy_ssl_client,
  admin_ssl_client = helpers.admin_ssl_client,
  get_proxy_port = helpers.get_proxy_port,
  get_proxy_ip = helpers.get_proxy_ip,
  grpc_client = helpers.grpc_client,
  proxy_client_grpc = helpers.proxy_client_grpc,
  proxy_client_grpcs = helpers.proxy_client_grpcs,
  http2_client = helpers.http2_client,
  proxy_client_h2c = helpers.proxy_client_h2c,
  proxy_client_h2 = helpers.proxy_client_h2,
  make_synchronized_clients = helpers.make_synchronized_clients,
}
