package request

import "github.com/luahost/luahost/luavm"

// The ngx.ctx keys the request PDK sets on every request (or often),
// boxed once for all states (luavm.SetKey: no allocation per key on a
// request's fresh ngx.ctx, made by the host with luavm.NewSizedTable).
var (
	keyKongPhase   = luavm.NewKey("KONG_PHASE")
	keyRoute       = luavm.NewKey("route")
	keyService     = luavm.NewKey("service")
	keyWorkspace   = luavm.NewKey("workspace")
	keyRouterMatch = luavm.NewKey("router_matches")
	keyURICaptures = luavm.NewKey("uri_captures")
	keyConsumer    = luavm.NewKey("authenticated_consumer")
	keyCredential  = luavm.NewKey("authenticated_credential")
	keyKongProxied = luavm.NewKey("KONG_PROXIED")
	keyKongExited  = luavm.NewKey("KONG_EXITED")
)
