package request

import (
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/pdk/bind"
)

// setSerializeValue is kong.log.set_serialize_value(key, value, options):
// recorded in ngx.ctx.serialize_values (options.ngx's ctx when given),
// applied by serialize with mode "set", "add" (only when absent) or
// "replace" (only when present).
func (s *State) setSerializeValue(L *lua.LState) int {
	s.check(L, phasesWithCtx)
	key, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "key must be a string")
	}
	opts, _ := L.Get(3).(*lua.LTable)
	mode := lua.LValue(lua.LString("set"))
	if opts != nil {
		if m := L.GetField(opts, "mode"); lua.LVAsBool(m) {
			mode = m
		}
	}
	if mode != lua.LString("set") && mode != lua.LString("add") && mode != lua.LString("replace") {
		raise(L, "mode must be 'set', 'add' or 'replace'")
	}
	ctx := s.in.CurrentCtx()
	if opts != nil {
		if ongx, ok := L.GetField(opts, "ngx").(*lua.LTable); ok {
			if c, ok := L.GetField(ongx, "ctx").(*lua.LTable); ok {
				ctx = c
			}
		}
	}
	rec := L.CreateTable(0, 3)
	rec.RawSetString("key", key)
	rec.RawSetString("value", L.Get(2))
	rec.RawSetString("mode", mode)
	list, ok := ctx.RawGetString("serialize_values").(*lua.LTable)
	if !ok {
		list = L.CreateTable(1, 0)
		ctx.RawSetString("serialize_values", list)
	}
	list.Append(rec)
	return 0
}

// validSerializeValue is Kong's is_valid_value: nil, ngx.null, numbers,
// strings, booleans, and tables of them without cycles (keys strings,
// numbers or booleans).
// A table met twice is refused (Kong's visited set is never cleared during
// one check), so the walk is linear; nesting past bind.MaxRecursion, where
// Kong's recursion would overflow, is refused too.
func validSerializeValue(v lua.LValue, seen map[*lua.LTable]bool, budget *int, depth int) bool {
	if *budget--; *budget < 0 || depth > bind.MaxRecursion {
		return false
	}
	switch x := v.(type) {
	case *lua.LNilType, lua.LNumber, lua.LString, lua.LBool:
		return true
	case *lua.LUserData:
		return pdk.IsNull(x)
	case *lua.LTable:
		if seen[x] {
			return false
		}
		seen[x] = true
		ok := true
		x.ForEach(func(k, val lua.LValue) {
			if !ok {
				return
			}
			switch k.(type) {
			case lua.LString, lua.LNumber, lua.LBool:
			default:
				ok = false
				return
			}
			ok = validSerializeValue(val, seen, budget, depth+1)
		})
		return ok
	}
	return false
}

// splitSerializeKey splits a key at dots not escaped by "\", unescaping
// "\." in each part.
func splitSerializeKey(key string) []string {
	var parts []string
	start := 0
	for i := 1; i < len(key); i++ {
		if key[i] == '.' && key[i-1] != '\\' {
			parts = append(parts, key[start:i])
			start = i + 1
		}
	}
	parts = append(parts, key[start:])
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, `\.`, ".")
	}
	return parts
}

// editResult is Kong's edit_result: the serialize values applied to root.
func (s *State) editResult(L *lua.LState, root *lua.LTable, list *lua.LTable) {
	for i := 1; i <= list.Len(); i++ {
		item, ok := list.RawGetInt(i).(*lua.LTable)
		if !ok {
			continue
		}
		val := item.RawGetString("value")
		budget := 1 << 20
		if !validSerializeValue(val, map[*lua.LTable]bool{}, &budget, 0) {
			raise(L, "value must be nil, a number, string, boolean or a non-self-referencial table containing "+
				"numbers, string and booleans")
		}
		key := lua.LVAsString(item.RawGetString("key"))
		mode := lua.LVAsString(item.RawGetString("mode"))
		setOrAdd := mode == "set" || mode == "add"
		parts := splitSerializeKey(key)
		node := root
		for _, sub := range parts[:len(parts)-1] {
			next := node.RawGetString(sub)
			if next == lua.LNil {
				if !setOrAdd {
					node = nil
					break
				}
				t := L.NewTable()
				node.RawSetString(sub, t)
				node = t
				continue
			}
			t, ok := next.(*lua.LTable)
			if !ok {
				L.RaiseError("The key '%s' could not be used as a serialize value. Subkey '%s' is not a table. It's %s",
					key, sub, lua.LVAsString(L.ToStringMeta(next)))
			}
			node = t
		}
		if node == nil {
			continue
		}
		last := parts[len(parts)-1]
		exists := node.RawGetString(last) != lua.LNil
		if mode == "set" || (mode == "add" && !exists) || (mode == "replace" && exists) {
			node.RawSetString(last, val)
		}
	}
}

// deepCopy is Kong's cycle_aware_deep_copy (metatables kept); tables
// nested deeper than bind.MaxRecursion end it with Lua's "stack overflow",
// as Kong's recursion would.
func deepCopy(L *lua.LState, v lua.LValue, seen map[*lua.LTable]*lua.LTable, depth int) lua.LValue {
	t, ok := v.(*lua.LTable)
	if !ok {
		return v
	}
	if c, ok := seen[t]; ok {
		return c
	}
	if depth > bind.MaxRecursion {
		L.RaiseError("stack overflow")
	}
	c := L.NewTable()
	seen[t] = c
	t.ForEach(func(k, val lua.LValue) {
		c.RawSet(deepCopy(L, k, seen, depth+1), deepCopy(L, val, seen, depth+1))
	})
	c.Metatable = t.Metatable
	return c
}

func ms(d time.Duration) lua.LNumber { return lua.LNumber(d.Milliseconds()) }

// serialize is kong.log.serialize(options) (log phase): Kong's table of
// the request for logging plugins, with the serialize values applied.
func (s *State) serialize(L *lua.LState) int {
	s.check(L, PhaseLog)
	opts, _ := L.Get(1).(*lua.LTable)
	ctx := s.in.CurrentCtx()
	root := L.CreateTable(0, 16)
	if s.c != nil {
		s.serializeRequest(L, root, ctx, opts)
	}
	if list, ok := ctx.RawGetString("serialize_values").(*lua.LTable); ok {
		s.editResult(L, root, list)
	}
	L.Push(root)
	return 1
}

func (s *State) serializeRequest(L *lua.LState, root, ctx, opts *lua.LTable) {
	c := s.c
	rc := c.RequestCtx
	requestURI := s.requestURI()
	skipHeaders := opts != nil && lua.LVAsBool(opts.RawGetString("__skip_fetch_headers__"))

	req := L.CreateTable(0, 8)
	req.RawSetString("id", lua.LString(c.RequestID))
	req.RawSetString("uri", lua.LString(requestURI))
	port := 0
	if v, ok := ctx.RawGetString("host_port").(lua.LNumber); ok {
		port = int(v)
	} else {
		_, port = s.local()
	}
	req.RawSetString("url", lua.LString(s.scheme()+"://"+s.host()+":"+itoa(port)+requestURI))
	qs := L.NewTable()
	if parseArgs(L, qs, s.query(), s.maxURIArgs) {
		s.truncated(uriArgsTruncated)
	}
	req.RawSetString("querystring", qs)
	req.RawSetString("method", s.method())
	var respHeaders lua.LValue = lua.LNil
	if !skipHeaders {
		hdrs, trunc := s.headerTable(L, reqHeaderAll(s.reqH()), s.maxReqHeaders, false)
		if trunc {
			s.truncated(reqHeadersTruncated)
		}
		for _, k := range []string{"authorization", "proxy-authorization"} {
			if hdrs.RawGetString(k) != lua.LNil {
				hdrs.RawSetString(k, lua.LString("REDACTED"))
			}
		}
		req.RawSetString("headers", hdrs)
		var rt *lua.LTable
		if rt, trunc = s.respHeaderTable(L, &rc.Response.Header, s.maxRespHeaders, false); trunc {
			s.truncated(respHeadersTruncated)
		}
		respHeaders = rt
	}
	req.RawSetString("size", s.varNumber("request_length"))
	if cs, ok := c.TLSState(); ok {
		// build_tls_info: set_client_verify's value over $ssl_client_verify
		t := L.CreateTable(0, 3)
		t.RawSetString("version", lua.LString(tlsVersionName(cs.Version)))
		t.RawSetString("cipher", s.sslVar("ssl_cipher"))
		cv := ctx.RawGetString("CLIENT_VERIFY_OVERRIDE")
		if !lua.LVAsBool(cv) {
			cv = s.sslVar("ssl_client_verify")
		}
		t.RawSetString("client_verify", cv)
		req.RawSetString("tls", t)
	}
	root.RawSetString("request", req)

	root.RawSetString("upstream_uri", lua.LString(s.upstreamURI()))
	switch v := s.varGet("upstream_status").(type) {
	case lua.LString:
		root.RawSetString("upstream_status", v)
	default:
		if b, ok := ctx.RawGetString("buffered_status").(lua.LNumber); ok {
			root.RawSetString("upstream_status", b)
		} else {
			root.RawSetString("upstream_status", lua.LString(""))
		}
	}

	resp := L.CreateTable(0, 3)
	resp.RawSetString("status", lua.LNumber(rc.Response.StatusCode()))
	resp.RawSetString("headers", respHeaders)
	resp.RawSetString("size", s.varNumber("bytes_sent"))
	root.RawSetString("response", resp)

	lat := L.CreateTable(0, 4)
	if c.Proxied {
		lat.RawSetString("kong", ms(c.ProxyLatency))
		if c.UpstreamErr == nil {
			lat.RawSetString("proxy", ms(c.UpstreamLatency))
		} else {
			lat.RawSetString("proxy", lua.LNumber(-1))
		}
	} else {
		lat.RawSetString("kong", ms(c.ResponseLatency))
		lat.RawSetString("proxy", lua.LNumber(-1))
	}
	lat.RawSetString("request", ms(time.Since(c.Start)))
	lat.RawSetString("receive", lua.LNumber(0))
	root.RawSetString("latencies", lat)

	if c.Proxied && len(c.Tries) > 0 {
		// a balanced request: each address tried, the failed ones with
		// their state and code (Kong's balancer_data.tries)
		tries := L.CreateTable(len(c.Tries), 0)
		for _, t := range c.Tries {
			try := L.CreateTable(0, 8)
			try.RawSetString("ip", lua.LString(t.IP))
			try.RawSetString("port", lua.LNumber(t.Port))
			try.RawSetString("balancer_start", lua.LNumber(t.Start.UnixMilli()))
			try.RawSetString("balancer_start_ns", lua.LNumber(t.Start.UnixNano()))
			try.RawSetString("balancer_latency", lua.LNumber(t.Latency.Milliseconds()))
			try.RawSetString("balancer_latency_ns", lua.LNumber(t.Latency.Nanoseconds()))
			if t.State != "" {
				try.RawSetString("state", lua.LString(t.State))
				try.RawSetString("code", lua.LNumber(t.Code))
			}
			tries.Append(try)
		}
		root.RawSetString("tries", tries)
	} else if c.Proxied {
		try := L.CreateTable(0, 2)
		try.RawSetString("ip", lua.LString(c.Upstream.Hostname))
		try.RawSetString("port", lua.LNumber(c.Upstream.Port))
		tries := L.CreateTable(1, 0)
		tries.Append(try)
		root.RawSetString("tries", tries)
	} else if s.accessed && c.Matched && c.Match.Route != nil {
		// not proxied (a plugin's exit): Kong's access.before made the
		// balancer data, its tries an empty array (array_mt: JSON [])
		tries := L.NewTable()
		tries.Metatable = pdk.ArrayMT(L)
		root.RawSetString("tries", tries)
	}

	if cred, ok := ctx.RawGetString("authenticated_credential").(*lua.LTable); ok {
		ae := L.CreateTable(0, 2)
		ae.RawSetString("id", L.GetField(cred, "id"))
		cid := L.GetField(cred, "consumer_id")
		if cid == lua.LNil {
			// Kong reads ctx.authenticate_consumer here (sic)
			if cons, ok := ctx.RawGetString("authenticate_consumer").(*lua.LTable); ok {
				cid = L.GetField(cons, "id")
			}
		}
		ae.RawSetString("consumer_id", cid)
		root.RawSetString("authenticated_entity", ae)
	}
	seen := map[*lua.LTable]*lua.LTable{}
	root.RawSetString("route", deepCopy(L, ctx.RawGetString("route"), seen, 0))
	root.RawSetString("service", deepCopy(L, ctx.RawGetString("service"), seen, 0))
	root.RawSetString("consumer", deepCopy(L, ctx.RawGetString("authenticated_consumer"), seen, 0))
	root.RawSetString("client_ip", lua.LString(c.ClientIP().String()))
	if v, ok := ctx.RawGetString("KONG_PROCESSING_START").(lua.LNumber); ok {
		root.RawSetString("started_at", v)
	} else {
		root.RawSetString("started_at", lua.LNumber(c.Start.UnixMilli()))
	}
	source := "kong"
	if !lua.LVAsBool(ctx.RawGetString("KONG_UNEXPECTED")) && !lua.LVAsBool(ctx.RawGetString("KONG_EXITED")) &&
		c.Proxied && c.UpstreamErr == nil {
		source = "upstream"
	}
	root.RawSetString("source", lua.LString(source))
	root.RawSetString("workspace", ctx.RawGetString("workspace"))
	root.RawSetString("workspace_name", lua.LString("default"))
}

// varNumber is tonumber(ngx.var[name]) or the string.
func (s *State) varNumber(name string) lua.LValue {
	v := s.varGet(name)
	if str, ok := v.(lua.LString); ok {
		if n, err := parseDecimal(string(str)); err == nil {
			return lua.LNumber(n)
		}
	}
	return v
}
