// Package bind is the small layer every Lua binding of pdk/ shares: the
// conversion between Lua values and kongdb's value model (ToValue,
// FromValue), the per-state markers ngx.null and cjson.array_mt, the
// argument checks bindings repeat (luaL_check*/luaL_opt* with PUC's and
// OpenResty's messages, "nil, err" returns), the memory budget that
// allocations sized by Lua arguments are charged to, and the
// connect/send/read timeouts of cosocket-like clients and the resolver
// their names go through (Resolver).
//
// It depends on gopher-lua, luavm and kongdb/schema only: pdk (Kong's PDK
// and ngx.*) and every library under pdk/lib import it, and it imports
// none of them.
package bind
