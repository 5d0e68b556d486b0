-- spec.internal.client (Kong 3.x): these functions of spec.helpers
local helpers = require "spec.helpers"
return {
  http_client = helpers.http_client,
  proxy_client = helpers.proxy_client,
  admin_client = helpers.admin_client,
  proxy_ssl_client = helpers.proxy_ssl_client,
  admin_ssl_client = helpers.admin_ssl_client,
}
