package bind

import (
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Timeouts are a cosocket client's connect/send/read timeouts, as
// set_timeout(ms) and set_timeouts(connect, send, read) set them
// (resty.http, resty.redis).
type Timeouts struct {
	ConnectTO, SendTO, ReadTO time.Duration
}

// DefaultTimeouts are OpenResty's lua_socket_*_timeout defaults: 60 s each.
func DefaultTimeouts() Timeouts {
	return Timeouts{ConnectTO: 60 * time.Second, SendTO: 60 * time.Second, ReadTO: 60 * time.Second}
}

// TimeoutMethods are set_timeout and set_timeouts for a client type whose
// userdata check returns its timeouts.
func TimeoutMethods(check func(L *lua.LState) *Timeouts) map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"set_timeout": func(L *lua.LState) int {
			t := check(L)
			d := time.Duration(L.CheckNumber(2)) * time.Millisecond
			t.ConnectTO, t.SendTO, t.ReadTO = d, d, d
			return 0
		},
		"set_timeouts": func(L *lua.LState) int {
			t := check(L)
			t.ConnectTO = time.Duration(L.CheckNumber(2)) * time.Millisecond
			t.SendTO = time.Duration(L.CheckNumber(3)) * time.Millisecond
			t.ReadTO = time.Duration(L.CheckNumber(4)) * time.Millisecond
			return 0
		},
	}
}
