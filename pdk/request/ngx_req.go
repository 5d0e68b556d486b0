package request

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// ngxMethods maps ngx.HTTP_<METHOD> ids to method names (set_method).
var ngxMethods = map[int]string{
	2: "GET", 4: "HEAD", 8: "POST", 16: "PUT", 32: "DELETE", 64: "MKCOL", 128: "COPY",
	256: "MOVE", 512: "OPTIONS", 1024: "PROPFIND", 2048: "PROPPATCH", 4096: "LOCK",
	8192: "UNLOCK", 16384: "PATCH", 32768: "TRACE",
}

// newNgxReq is ngx.req: the request as OpenResty's API reads and changes
// it.
func (s *State) newNgxReq() *lua.LTable {
	L := s.L
	t := L.NewTable()
	need := func(fn lua.LGFunction) lua.LGFunction {
		return func(L *lua.LState) int {
			if s.c == nil {
				raise(L, "no request found")
			}
			return fn(L)
		}
	}
	L.SetFuncs(t, map[string]lua.LGFunction{
		"get_headers": need(func(L *lua.LState) int {
			return s.pushHeaderTable(L, reqHeaderAll(s.reqH()), optMax(L, 1, s.maxReqHeaders), lua.LVAsBool(L.Get(2)), reqHeadersTruncated)
		}),
		"get_uri_args": need(func(L *lua.LState) int {
			t := L.NewTable()
			if parseArgs(L, t, s.query(), optMax(L, 1, s.maxURIArgs)) {
				s.truncated(uriArgsTruncated)
				L.Push(t)
				L.Push(lua.LString("truncated"))
				return 2
			}
			L.Push(t)
			return 1
		}),
		"get_post_args": need(func(L *lua.LState) int {
			t := L.NewTable()
			if parseArgs(L, t, s.c.RequestBody(), optMax(L, 1, s.maxPostArgs)) {
				s.truncated(postArgsTruncated)
				L.Push(t)
				L.Push(lua.LString("truncated"))
				return 2
			}
			L.Push(t)
			return 1
		}),
		"get_method": need(func(L *lua.LState) int { L.Push(s.method()); return 1 }),
		"set_method": need(func(L *lua.LState) int {
			id := L.CheckInt(1)
			m, ok := ngxMethods[id]
			if !ok {
				raise(L, "unsupported HTTP method: "+itoa(id))
			}
			s.c.RequestCtx.Request.Header.SetMethod(m)
			return 0
		}),
		"read_body": func(L *lua.LState) int {
			// ngx_lua checks the context first: "API disabled in the
			// context of log_by_lua*" in log, "... ngx.timer" in a timer
			s.checkContext(L, bind.RequestHandlers)
			if s.c == nil {
				raise(L, "no request found")
			}
			return 0
		},
		"discard_body":  need(func(L *lua.LState) int { return 0 }),
		"get_body_file": need(func(L *lua.LState) int { return 0 }),
		"get_body_data": need(func(L *lua.LState) int {
			b := s.c.RequestBody()
			if len(b) == 0 {
				L.Push(lua.LNil)
				return 1
			}
			if max := L.OptInt(1, 0); max > 0 && max < len(b) {
				b = b[:max]
			}
			L.Push(lua.LString(b))
			return 1
		}),
		"set_body_data": need(func(L *lua.LState) int {
			s.c.RequestCtx.Request.SetBodyString(luavm.CheckString(L, 1))
			return 0
		}),
		"set_body_file": need(func(L *lua.LState) int {
			raise(L, "ngx.req.set_body_file is not supported by luahost")
			return 0
		}),
		"init_body": need(func(L *lua.LState) int {
			s.c.RequestCtx.Request.ResetBody()
			return 0
		}),
		"append_body": need(func(L *lua.LState) int {
			s.c.RequestCtx.Request.AppendBodyString(luavm.CheckString(L, 1))
			return 0
		}),
		"finish_body": need(func(L *lua.LState) int { return 0 }),
		"set_header": need(func(L *lua.LState) int {
			name := luavm.CheckString(L, 1)
			var vals []string
			switch v := L.Get(2).(type) {
			case *lua.LNilType:
			case *lua.LTable:
				for i := 1; i <= v.Len(); i++ {
					vals = append(vals, luavm.ToString(v.RawGetInt(i)))
				}
			default:
				vals = []string{luavm.ToString(v)}
			}
			if strings.EqualFold(name, "host") && len(vals) > 0 {
				s.c.RequestCtx.Request.Header.SetHost(vals[0])
			}
			s.setReqHeader(name, vals)
			return 0
		}),
		"clear_header": need(func(L *lua.LState) int {
			s.setReqHeader(luavm.CheckString(L, 1), nil)
			return 0
		}),
		"set_uri": need(func(L *lua.LState) int {
			uri := luavm.CheckString(L, 1)
			if uri == "" {
				raise(L, "attempt to use zero-length uri")
			}
			s.uri, s.uriSet = uri, true
			return 0
		}),
		"set_uri_args": need(func(L *lua.LState) int {
			switch v := L.Get(1).(type) {
			case lua.LString, lua.LNumber:
				s.setQuery(luavm.ToString(v))
			case *lua.LTable:
				q, err := encodeArgs(v)
				if err != "" {
					raise(L, err)
				}
				s.setQuery(q)
			default:
				L.ArgError(1, "string, number, or table expected, but got "+v.Type().String())
			}
			return 0
		}),
		"start_time": need(func(L *lua.LState) int {
			L.Push(lua.LNumber(float64(s.c.Start.UnixMilli()) / 1000))
			return 1
		}),
		"http_version": need(func(L *lua.LState) int { L.Push(s.httpVersion()); return 1 }),
		"raw_header": need(func(L *lua.LState) int {
			h := s.reqH()
			raw := string(h.Header())
			if lua.LVAsBool(L.Get(1)) {
				if i := strings.Index(raw, "\r\n"); i >= 0 {
					raw = raw[i+2:]
				}
			}
			L.Push(lua.LString(raw))
			return 1
		}),
		"is_internal": need(func(L *lua.LState) int { L.Push(lua.LFalse); return 1 }),
		"socket": func(L *lua.LState) int {
			s.checkContext(L, bind.RequestHandlers)
			raise(L, "ngx.req.socket is not supported by luahost")
			return 0
		},
	})
	return t
}

// encodeArgs is ngx.encode_args(t) in table order.
func encodeArgs(t *lua.LTable) (string, string) {
	var parts []string
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		var key string
		switch x := k.(type) {
		case lua.LString, lua.LNumber:
			key = luavm.ToString(x)
		default:
			return "", "attempt to use " + k.Type().String() + " as query arg key"
		}
		p, err := encodeArg(key, v)
		if err != "" {
			return "", err
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "&"), ""
}
