-- spec.internal.server (Kong 3.x): these functions of spec.helpers
local helpers = require "spec.helpers"
return {
  tcp_server = helpers.tcp_server,
  kill_tcp_server = helpers.kill_tcp_server,
  udp_server = helpers.udp_server,
}
