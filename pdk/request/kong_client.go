package request

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// newKongClient is kong.client (kong/pdk/client.lua).
func (s *State) newKongClient() *lua.LTable {
	L := s.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"get_ip":             s.clientGetIP,
		"get_forwarded_ip":   s.clientGetForwardedIP,
		"get_port":           s.clientGetPort,
		"get_forwarded_port": s.clientGetForwardedPort,
		"get_credential":     s.clientGetCredential,
		"get_consumer":       s.clientGetConsumer,
		"load_consumer":      s.clientLoadConsumer,
		"authenticate":       s.clientAuthenticate,
		"get_protocol":       s.clientGetProtocol,
	})
	t.RawSetString("tls", s.newKongClientTLS())
	return t
}

func (s *State) clientGetIP(L *lua.LState) int {
	s.checkNot(L, PhaseInitWorker)
	s.varsReadable(L)
	if s.c == nil {
		return 0
	}
	ip, _ := s.peer()
	L.Push(lua.LString(ip.String()))
	return 1
}

func (s *State) clientGetForwardedIP(L *lua.LState) int {
	s.checkNot(L, PhaseInitWorker)
	s.varsReadable(L)
	if s.c == nil {
		return 0
	}
	L.Push(lua.LString(s.c.ClientIP().String()))
	return 1
}

// clientGetPort is the peer's port ($realip_remote_port).
func (s *State) clientGetPort(L *lua.LState) int {
	s.checkNot(L, PhaseInitWorker)
	s.varsReadable(L)
	if s.c == nil {
		return 0
	}
	_, port := s.peer()
	L.Push(lua.LNumber(port))
	return 1
}

// clientGetForwardedPort is $remote_port: the real IP header's port when
// it replaced the peer's address, nil when it had none.
func (s *State) clientGetForwardedPort(L *lua.LState) int {
	s.checkNot(L, PhaseInitWorker)
	s.varsReadable(L)
	if s.c == nil {
		return 0
	}
	L.Push(s.remotePort())
	return 1
}

// varsReadable raises as Kong's kong.client address getters do in the
// certificate phase, which their phase check allows: they read ngx.var,
// which raises there (apiDisabled).
func (s *State) varsReadable(L *lua.LState) {
	if s.hs != nil {
		raise(L, apiDisabled)
	}
}

// remotePort is tonumber($remote_port).
func (s *State) remotePort() lua.LValue {
	_, port := s.c.ClientAddr()
	if port == 0 {
		return lua.LNil
	}
	return lua.LNumber(port)
}

func (s *State) clientGetCredential(L *lua.LState) int {
	s.check(L, authAndLater)
	L.Push(s.in.CtxGet(keyCredential))
	return 1
}

func (s *State) clientGetConsumer(L *lua.LState) int {
	s.check(L, authAndLater)
	L.Push(s.in.CtxGet(keyConsumer))
	return 1
}

// isValidUUID is kong.tools.uuid.is_valid_uuid (case-insensitive).
func isValidUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := v[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// daoCall calls kong.db.<dao>:<method>(arg) and pushes its results.
func daoCall(L *lua.LState, dao, method string, arg lua.LValue) int {
	kong, _ := L.GetGlobal("kong").(*lua.LTable)
	var db *lua.LTable
	if kong != nil {
		db, _ = L.GetField(kong, "db").(*lua.LTable)
	}
	if db == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("no database"))
		return 2
	}
	d := L.GetField(db, dao)
	fn := L.GetField(d, method)
	top := L.GetTop()
	L.Push(fn)
	L.Push(d)
	L.Push(arg)
	L.Call(2, 3)
	return L.GetTop() - top
}

func (s *State) clientLoadConsumer(L *lua.LState) int {
	s.check(L, authAndLater)
	id, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "consumer_id must be a string")
	}
	byName := lua.LVAsBool(L.Get(2))
	valid := isValidUUID(string(id))
	if !valid && !byName {
		raise(L, "cannot load a consumer with an id that is not a uuid")
	}
	if valid {
		pk := L.CreateTable(0, 1)
		pk.RawSetString("id", id)
		base := L.GetTop()
		n := daoCall(L, "consumers", "select", pk)
		if res := L.Get(base + 1); res != lua.LNil {
			L.SetTop(base + 1)
			return 1
		}
		if n > 1 && L.Get(base+2) != lua.LNil {
			L.Push(lua.LNil)
			L.Push(L.Get(base + 2))
			return 2
		}
		L.SetTop(base)
	}
	if byName {
		return daoCall(L, "consumers", "select_by_username", id)
	}
	return 0
}

func (s *State) clientAuthenticate(L *lua.LState) int {
	s.check(L, PhaseAccess)
	consumer, credential := L.Get(1), L.Get(2)
	tableOrNil := func(v lua.LValue) bool {
		t := v.Type()
		return t == lua.LTTable || t == lua.LTNil
	}
	switch {
	case !tableOrNil(consumer):
		raise(L, "consumer must be a table or nil")
	case !tableOrNil(credential):
		raise(L, "credential must be a table or nil")
	case consumer == lua.LNil && credential == lua.LNil:
		raise(L, "either credential or consumer must be provided")
	}
	s.in.CtxSet(keyConsumer, consumer)
	s.in.CtxSet(keyCredential, credential)
	return 0
}

func (s *State) clientGetProtocol(L *lua.LState) int {
	s.check(L, authAndLater)
	route, ok := s.in.CtxGet(keyRoute).(*lua.LTable)
	if !ok {
		L.Push(lua.LNil)
		L.Push(lua.LString("No active route found"))
		return 2
	}
	protocols, _ := route.RawGetString("protocols").(*lua.LTable)
	if protocols != nil && protocols.Len() == 1 {
		L.Push(protocols.RawGetInt(1))
		return 1
	}
	if s.c == nil {
		return 0
	}
	// check_https(is_trusted(get_ip()), allow_terminated)
	https := s.scheme() == "https"
	if !https && lua.LVAsBool(L.Get(1)) && s.trustedPeer() {
		if v, ok := s.reqHeader("X-Forwarded-Proto"); ok {
			if strings.IndexByte(string(v), ',') >= 0 {
				L.Push(lua.LNil)
				L.Push(lua.LString("Only one X-Forwarded-Proto header allowed"))
				return 2
			}
			https = strings.EqualFold(string(v), "https")
		}
	}
	if https {
		L.Push(lua.LString("https"))
	} else {
		L.Push(lua.LString("http"))
	}
	return 1
}
