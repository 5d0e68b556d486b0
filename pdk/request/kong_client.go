package request

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/router"
)

// newKongClient is kong.client (kong/pdk/client.lua).
func (s *State) newKongClient() *lua.LTable {
	L := s.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"get_ip":             s.clientGetIP,
		"get_forwarded_ip":   s.clientGetForwardedIP,
		"get_port":           s.clientGetPort,
		"get_forwarded_port": s.clientGetPort,
		"get_credential":     s.clientGetCredential,
		"get_consumer":       s.clientGetConsumer,
		"load_consumer":      s.clientLoadConsumer,
		"authenticate":       s.clientAuthenticate,
		"get_protocol":       s.clientGetProtocol,
	})
	return t
}

func (s *State) clientGetIP(L *lua.LState) int {
	s.checkNot(L, PhaseInitWorker)
	if s.c == nil {
		return 0
	}
	ip, _ := s.peer()
	L.Push(lua.LString(ip.String()))
	return 1
}

func (s *State) clientGetForwardedIP(L *lua.LState) int {
	s.checkNot(L, PhaseInitWorker)
	if s.c == nil {
		return 0
	}
	L.Push(lua.LString(s.c.ClientIP().String()))
	return 1
}

// clientGetPort is get_port and get_forwarded_port: the realip module
// keeps the peer's port when it takes the address from a header.
func (s *State) clientGetPort(L *lua.LState) int {
	s.checkNot(L, PhaseInitWorker)
	if s.c == nil {
		return 0
	}
	_, port := s.peer()
	L.Push(lua.LNumber(port))
	return 1
}

func (s *State) clientGetCredential(L *lua.LState) int {
	s.check(L, authAndLater)
	L.Push(s.in.CurrentCtx().RawGetString("authenticated_credential"))
	return 1
}

func (s *State) clientGetConsumer(L *lua.LState) int {
	s.check(L, authAndLater)
	L.Push(s.in.CurrentCtx().RawGetString("authenticated_consumer"))
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
	ctx := s.in.CurrentCtx()
	ctx.RawSetString("authenticated_consumer", consumer)
	ctx.RawSetString("authenticated_credential", credential)
	return 0
}

func (s *State) clientGetProtocol(L *lua.LState) int {
	s.check(L, authAndLater)
	route, ok := s.in.CurrentCtx().RawGetString("route").(*lua.LTable)
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

// newKongRouter is kong.router (kong/pdk/router.lua).
func (s *State) newKongRouter() *lua.LTable {
	L := s.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"get_route": func(L *lua.LState) int {
			s.check(L, authAndLater)
			L.Push(s.in.CurrentCtx().RawGetString("route"))
			return 1
		},
		"get_service": func(L *lua.LState) int {
			s.check(L, authAndLater)
			L.Push(s.in.CurrentCtx().RawGetString("service"))
			return 1
		},
	})
	return t
}

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

// accessBefore is what Kong's access.before leaves in ngx.ctx for the
// PDK: route, service (entity tables), router_matches, workspace.
func (s *State) accessBefore(ctx *lua.LTable) {
	c := s.c
	if !c.Matched || c.Match.Route == nil {
		return
	}
	m := &c.Match
	ctx.RawSetString("route", s.routeTable(m.Route))
	if m.Service != nil {
		ctx.RawSetString("service", s.serviceTable(m.Service))
	}
	if m.Route.WsID != "" {
		ctx.RawSetString("workspace", lua.LString(m.Route.WsID))
	}
	matches := s.L.CreateTable(0, 1)
	if caps := m.URICaptures; caps != nil {
		ct := s.L.CreateTable(caps.Len(), caps.Len()+1)
		for i := 0; i <= caps.Len(); i++ {
			g, ok := caps.Group(i)
			if !ok {
				continue
			}
			ct.RawSetInt(i, lua.LString(g))
			if name := caps.Name(i); name != "" {
				ct.RawSetString(name, lua.LString(g))
			}
		}
		matches.RawSetString("uri_captures", ct)
	}
	ctx.RawSetString("router_matches", matches)
}

// entityRow is the row of entity id from kong.db (nil without a database,
// or when it cannot be read): what Kong's router keeps for ctx.route and
// ctx.service, unset fields removed.
func (s *State) entityRow(dao, id string) map[string]any {
	db := s.in.Root.DB
	if db == nil || id == "" {
		return nil
	}
	d := db.DAO(dao)
	if d == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), entityReadTimeout)
	defer cancel()
	row, err := d.Select(ctx, map[string]any{"id": id}, nil)
	if err != nil || row == nil {
		return nil
	}
	return dropNulls(row)
}

// entityReadTimeout bounds the read of a Route or Service row (once per
// Route per worker per router version).
const entityReadTimeout = 2 * time.Second

// dropNulls is m without its null fields, as Kong's DAO answers without
// nulls = true (a copy: the row may be the store's).
func dropNulls(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case schema.NullType:
		case map[string]any:
			out[k] = dropNulls(x)
		default:
			out[k] = v
		}
	}
	return out
}

// routeTable is a Route as Kong's router keeps it (the routes entity, unset
// fields absent), one table per Route per worker: the row from kong.db, or
// built from the router's Route without a database.
func (s *State) routeTable(r *router.Route) *lua.LTable {
	if t, ok := s.routes[r]; ok {
		return t
	}
	L := s.L
	if row := s.entityRow("routes", r.ID); row != nil {
		t := pdk.FromValue(L, row, nil).(*lua.LTable)
		s.routes[r] = t
		return t
	}
	m := map[string]any{
		"id": r.ID, "created_at": r.CreatedAt, "updated_at": r.UpdatedAt,
		"regex_priority": r.RegexPriority, "strip_path": r.StripPath, "preserve_host": r.PreserveHost,
		"request_buffering": r.RequestBuffering, "response_buffering": r.ResponseBuffering,
	}
	if r.Name != "" {
		m["name"] = r.Name
	}
	protocols := r.Protocols
	if len(protocols) == 0 {
		protocols = []string{"http", "https"}
	}
	m["protocols"] = protocols
	for k, v := range map[string][]string{"methods": r.Methods, "hosts": r.Hosts, "paths": r.Paths,
		"snis": r.SNIs, "tags": r.Tags} {
		if len(v) > 0 {
			m[k] = v
		}
	}
	if len(r.Headers) > 0 {
		h := map[string]any{}
		for k, v := range r.Headers {
			h[k] = v
		}
		m["headers"] = h
	}
	for k, v := range map[string][]router.CIDRPort{"sources": r.Sources, "destinations": r.Destinations} {
		if len(v) == 0 {
			continue
		}
		arr := make([]any, 0, len(v))
		for _, cp := range v {
			e := map[string]any{}
			if cp.IP != "" {
				e["ip"] = cp.IP
			}
			if cp.Port != 0 {
				e["port"] = cp.Port
			}
			arr = append(arr, e)
		}
		m[k] = arr
	}
	ph := r.PathHandling
	if ph == "" {
		ph = "v0"
	}
	m["path_handling"] = ph
	code := r.HTTPSRedirectStatusCode
	if code == 0 {
		code = 426
	}
	m["https_redirect_status_code"] = code
	if r.ServiceID != "" {
		m["service"] = map[string]any{"id": r.ServiceID}
	}
	if r.WsID != "" {
		m["ws_id"] = r.WsID
	}
	t := pdk.FromValue(L, m, nil).(*lua.LTable)
	s.routes[r] = t
	return t
}

// serviceTable is a Service as Kong's router keeps it.
func (s *State) serviceTable(sv *router.Service) *lua.LTable {
	if t, ok := s.services[sv]; ok {
		return t
	}
	L := s.L
	if row := s.entityRow("services", sv.ID); row != nil {
		t := pdk.FromValue(L, row, nil).(*lua.LTable)
		s.services[sv] = t
		return t
	}
	port := sv.Port
	if port == 0 {
		port = 80
		if sv.Protocol == "https" || sv.Protocol == "grpcs" || sv.Protocol == "wss" {
			port = 443
		}
	}
	m := map[string]any{
		"id": sv.ID, "created_at": sv.CreatedAt, "updated_at": sv.UpdatedAt,
		"protocol": sv.Protocol, "host": sv.Host, "port": port,
		"retries": sv.Retries, "connect_timeout": sv.ConnectTimeout,
		"write_timeout": sv.WriteTimeout, "read_timeout": sv.ReadTimeout,
		"enabled": sv.Enabled == nil || *sv.Enabled,
	}
	if sv.Name != "" {
		m["name"] = sv.Name
	}
	if sv.Path != "" {
		m["path"] = sv.Path
	}
	if len(sv.Tags) > 0 {
		m["tags"] = sv.Tags
	}
	if len(sv.CACertificates) > 0 {
		m["ca_certificates"] = sv.CACertificates
	}
	if sv.TLSVerify != nil {
		m["tls_verify"] = *sv.TLSVerify
	}
	if sv.TLSVerifyDepth != nil {
		m["tls_verify_depth"] = *sv.TLSVerifyDepth
	}
	if sv.ClientCertID != "" {
		m["client_certificate"] = map[string]any{"id": sv.ClientCertID}
	}
	if sv.WsID != "" {
		m["ws_id"] = sv.WsID
	}
	t := pdk.FromValue(L, m, nil).(*lua.LTable)
	s.services[sv] = t
	return t
}
