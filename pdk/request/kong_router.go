package request

import (
	"context"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/router"
)

// newKongRouter is kong.router (kong/pdk/router.lua).
func (s *State) newKongRouter() *lua.LTable {
	L := s.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"get_route": func(L *lua.LState) int {
			s.check(L, authAndLater)
			L.Push(s.in.CtxGet(keyRoute))
			return 1
		},
		"get_service": func(L *lua.LState) int {
			s.check(L, authAndLater)
			L.Push(s.in.CtxGet(keyService))
			return 1
		},
	})
	return t
}

// accessBefore is what Kong's access.before leaves in ngx.ctx for the
// PDK: route, service (entity tables), router_matches, workspace.
func (s *State) accessBefore() {
	c := s.c
	if !c.Matched || c.Match.Route == nil {
		return
	}
	m := &c.Match
	in := s.in
	in.CtxSet(keyRoute, s.routeTable(m.Route))
	if m.Service != nil {
		in.CtxSet(keyService, s.serviceTable(m.Service))
	}
	if id := m.Route.WsID; id != "" {
		// boxed once per workspace met in a row (one, mostly)
		if s.wsID != id || s.wsVal == nil {
			s.wsID, s.wsVal = id, lua.LString(id)
		}
		in.CtxSet(keyWorkspace, s.wsVal)
	}
	if caps := m.URICaptures; caps != nil {
		matches := luavm.NewSizedTable(s.L, 0, 1)
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
		luavm.SetKey(matches, keyURICaptures, ct)
		in.CtxSet(keyRouterMatch, matches)
	} else {
		// made when read (no hash part until a plugin writes in it)
		in.CtxSetEmptyTable(keyRouterMatch)
	}
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
	// Kong's GLOBAL_QUERY_OPTS: any workspace, ws_id kept
	row, err := d.Select(ctx, map[string]any{"id": id}, map[string]any{"workspace": schema.Null, "show_ws_id": true})
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
