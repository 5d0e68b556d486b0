package request

import (
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
)

// requestsTotal counts the requests the process's workers took
// (kong.nginx.get_statistics().total_requests).
var requestsTotal atomic.Int64

// newKongNginx is kong.nginx (kong/pdk/nginx.lua), with Kong 2.x's
// get_ctx / set_ctx.
func (s *State) newKongNginx() *lua.LTable {
	L := s.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"get_subsystem": func(L *lua.LState) int { L.Push(lua.LString("http")); return 1 },
		"get_statistics": func(L *lua.LState) int {
			// nginx's connection counters have no equivalent yet: 0
			out := L.CreateTable(0, 7)
			for _, k := range []string{"connections_active", "connections_reading", "connections_writing",
				"connections_waiting", "connections_accepted", "connections_handled"} {
				out.RawSetString(k, lua.LNumber(0))
			}
			out.RawSetString("total_requests", lua.LNumber(requestsTotal.Load()))
			L.Push(out)
			return 1
		},
		"get_ctx": func(L *lua.LState) int {
			L.Push(s.in.CurrentCtx().RawGet(L.Get(1)))
			return 1
		},
		"set_ctx": func(L *lua.LState) int {
			k := L.Get(1)
			if k == lua.LNil {
				raise(L, "table index is nil")
			}
			s.in.CurrentCtx().RawSet(k, L.Get(2))
			return 0
		},
		"get_tls1_version_str": func(L *lua.LState) int { return 0 },
	})
	return t
}

// newKongIP is kong.ip (kong/pdk/ip.lua).
func (s *State) newKongIP() *lua.LTable {
	L := s.L
	t := L.NewTable()
	t.RawSetString("is_trusted", L.NewFunction(func(L *lua.LState) int {
		ip, ok := L.Get(1).(lua.LString)
		L.Push(lua.LBool(ok && s.isTrusted(string(ip))))
		return 1
	}))
	return t
}
