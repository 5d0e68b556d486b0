package request

import (
	"net/http"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/pdk/bind"
)

// openNgx adds the request-bound members to the global ngx: ngx.var,
// ngx.req, ngx.header, ngx.resp, ngx.arg, ngx.location, ngx.say, print,
// flush, eof, exit, redirect, and ngx.status / ngx.headers_sent through a
// metatable; plus the module "ngx.resp" (add_header).
func (s *State) openNgx(ngx *lua.LTable) {
	L := s.L
	ngx.RawSetString("var", s.newNgxVar())
	ngx.RawSetString("req", s.newNgxReq())
	ngx.RawSetString("header", s.newNgxHeader())
	ngx.RawSetString("arg", s.newNgxArg())

	addHeader := L.NewFunction(func(L *lua.LState) int {
		if s.c == nil {
			raise(L, "no request found")
		}
		name := luavm.CheckString(L, 1)
		s.setRespHeader(name, luaValues(L.Get(2)), true)
		return 0
	})
	resp := L.NewTable()
	resp.RawSetString("get_headers", L.NewFunction(func(L *lua.LState) int {
		if s.c == nil {
			raise(L, "no request found")
		}
		return s.pushRespHeaderTable(L, optMax(L, 1, s.maxRespHeaders), lua.LVAsBool(L.Get(2)))
	}))
	resp.RawSetString("add_header", addHeader)
	ngx.RawSetString("resp", resp)
	L.PreloadModule("ngx.resp", func(L *lua.LState) int {
		m := L.NewTable()
		m.RawSetString("add_header", addHeader)
		m.RawSetString("get_headers", resp.RawGetString("get_headers"))
		L.Push(m)
		return 1
	})

	location := L.NewTable()
	for _, name := range []string{"capture", "capture_multi"} {
		name := name
		location.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			// ngx_lua allows subrequests in rewrite, access and content only
			s.checkContext(L, bind.CtxRewrite|bind.CtxAccess|bind.CtxContent)
			raise(L, "ngx.location."+name+" is not supported by luahost")
			return 0
		}))
	}
	ngx.RawSetString("location", location)

	L.SetFuncs(ngx, map[string]lua.LGFunction{
		"say":      func(L *lua.LState) int { return s.ngxOutput(L, "say", true) },
		"print":    func(L *lua.LState) int { return s.ngxOutput(L, "print", false) },
		"flush":    func(L *lua.LState) int { L.Push(lua.LNumber(1)); return 1 },
		"eof":      s.ngxEOF,
		"exit":     s.ngxExit,
		"redirect": s.ngxRedirect,
	})

	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		switch L.Get(2) {
		case lua.LString("status"):
			// nginx's is 0 until something set it
			if s.c == nil || !s.statusSet && (s.phase == PhaseRewrite || s.phase == PhaseAccess) {
				L.Push(lua.LNumber(0))
				return 1
			}
			L.Push(lua.LNumber(s.resp().StatusCode()))
			return 1
		case lua.LString("headers_sent"):
			L.Push(lua.LBool(s.sent))
			return 1
		case lua.LString("is_subrequest"):
			L.Push(lua.LFalse)
			return 1
		case lua.LString("ctx"):
			// a request's ngx.ctx not made yet (pdk/ctx_lazy.go)
			L.Push(s.in.CurrentCtx())
			return 1
		}
		return 0
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		k, v := L.Get(2), L.Get(3)
		if k == lua.LString("status") {
			if s.c == nil {
				raise(L, "no request found")
			}
			n, ok := v.(lua.LNumber)
			if !ok {
				if str, isStr := v.(lua.LString); isStr {
					f, err := strconv.ParseFloat(string(str), 64)
					n, ok = lua.LNumber(f), err == nil
				}
			}
			if !ok {
				L.ArgError(3, "number expected, got "+v.Type().String())
			}
			if !s.sent {
				s.resp().SetStatusCode(int(n))
				s.statusSet = true
			}
			return 0
		}
		if k == lua.LString("ctx") {
			// ngx.ctx = v while the request's ctx is not made (ctx_lazy.go)
			s.in.AssignCtx(v)
			return 0
		}
		L.Get(1).(*lua.LTable).RawSet(k, v)
		return 0
	}))
	ngx.Metatable = mt
	s.in.EnableLazyCtx()
}

// luaValues is a header value as ngx.header takes it: nil (clear), a
// string or number, or an array of them.
func luaValues(v lua.LValue) []string {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil
	case *lua.LTable:
		var out []string
		for i := 1; i <= x.Len(); i++ {
			out = append(out, luavm.ToString(x.RawGetInt(i)))
		}
		return out
	}
	return []string{luavm.ToString(v)}
}

// newNgxHeader is ngx.header: the response headers, read and written by
// name ('_' as '-'); several values read back as an array.
func (s *State) newNgxHeader() *lua.LTable {
	L := s.L
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name, ok := L.Get(2).(lua.LString)
		if !ok || s.c == nil {
			return 0
		}
		key := s.headerKey(string(name))
		var vals []lua.LValue
		for k, v := range s.resp().Header.All() {
			if equalFoldDash(k, key) {
				vals = append(vals, lua.LString(v))
			}
		}
		switch len(vals) {
		case 0:
			L.Push(lua.LNil)
		case 1:
			L.Push(vals[0])
		default:
			arr := L.CreateTable(len(vals), 0)
			for _, v := range vals {
				arr.Append(v)
			}
			L.Push(arr)
		}
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		name := luavm.CheckString(L, 2)
		if s.c == nil {
			raise(L, "no request found")
		}
		if s.sent {
			return 0 // nginx logs "attempt to set ngx.header.X after sending out response headers"
		}
		s.setRespHeader(s.headerKey(name), luaValues(L.Get(3)), false)
		return 0
	}))
	t.Metatable = mt
	return t
}

// newNgxArg is ngx.arg in body_filter: [1] the chunk, [2] eof.
func (s *State) newNgxArg() *lua.LTable {
	L := s.L
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		if s.c == nil || s.phase != PhaseBodyFilter {
			return 0
		}
		switch L.Get(2) {
		case lua.LNumber(1):
			L.Push(lua.LString(s.c.BodyChunk))
			return 1
		case lua.LNumber(2):
			L.Push(lua.LBool(s.c.BodyEOF))
			return 1
		}
		return 0
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		if s.c == nil || s.phase != PhaseBodyFilter {
			raise(L, "API disabled in the current context")
		}
		v := L.Get(3)
		switch L.Get(2) {
		case lua.LNumber(1):
			switch x := v.(type) {
			case *lua.LNilType:
				s.c.BodyChunk = s.c.BodyChunk[:0]
			case lua.LString, lua.LNumber:
				s.c.BodyChunk = []byte(luavm.ToString(x))
			case *lua.LTable:
				var b []byte
				for i := 1; i <= x.Len(); i++ {
					b = append(b, luavm.ToString(x.RawGetInt(i))...)
				}
				s.c.BodyChunk = b
			default:
				raise(L, "attempt to use "+v.Type().String()+" as the new chunk")
			}
		case lua.LNumber(2):
			s.c.BodyEOF = lua.LVAsBool(v)
		default:
			raise(L, "bad index")
		}
		return 0
	}))
	t.Metatable = mt
	return t
}

// outputAllowed raises ngx_lua's message for output and exit API in the
// filter and log phases, and, with no request, in a timer or init_worker.
func (s *State) outputAllowed(L *lua.LState, api string, headerFilterOK bool) {
	if s.c == nil {
		s.checkContext(L, bind.RequestHandlers)
		raise(L, "no request found")
	}
	switch s.phase {
	case PhaseHeaderFilter:
		if !headerFilterOK {
			raise(L, "API disabled in the context of header_filter_by_lua*")
		}
	case PhaseBodyFilter:
		raise(L, "API disabled in the context of body_filter_by_lua*")
	case PhaseLog:
		raise(L, "API disabled in the context of log_by_lua*")
	}
}

// appendOutput appends ngx.print's arguments as ngx_lua flattens them;
// output past limit bytes (an array shared 2^40 ways) raises "not enough
// memory", as the worker's memory budget does.
func appendOutput(L *lua.LState, b []byte, v lua.LValue, depth int, limit int64) []byte {
	switch x := v.(type) {
	case lua.LString:
		return append(b, x...)
	case lua.LNumber:
		return luavm.AppendNumber(b, float64(x))
	case *lua.LNilType:
		return append(b, "nil"...)
	case lua.LBool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case *lua.LTable:
		if depth > 64 {
			raise(L, "table nested too deeply")
		}
		if int64(len(b)) > limit {
			raise(L, pdk.ErrNoMemory)
		}
		for i := 1; i <= x.Len(); i++ {
			b = appendOutput(L, b, x.RawGetInt(i), depth+1, limit)
		}
		return b
	case *lua.LUserData:
		if pdk.IsNull(x) {
			return append(b, "null"...)
		}
	}
	raise(L, "bad argument to 'print' (string, number, boolean, nil, ngx.null, or array table expected, got "+
		v.Type().String()+")")
	return b
}

// ngxOutput is ngx.say / ngx.print: the body is buffered in the response;
// in rewrite and access it answers the request.
func (s *State) ngxOutput(L *lua.LState, api string, nl bool) int {
	s.outputAllowed(L, api, false)
	var b []byte
	for i := 1; i <= L.GetTop(); i++ {
		b = appendOutput(L, b, L.Get(i), 0, s.in.Budget().Left())
	}
	if nl {
		b = append(b, '\n')
	}
	s.in.Reserve(L, int64(len(b)), 1)
	resp := s.resp()
	if !s.sent {
		resp.ResetBody()
	}
	resp.AppendBody(b)
	s.sent = true
	if s.phase == PhaseRewrite || s.phase == PhaseAccess {
		s.exited = true
		s.in.CtxSet(keyKongExited, lua.LTrue)
	}
	L.Push(lua.LNumber(1))
	return 1
}

func (s *State) ngxEOF(L *lua.LState) int {
	s.outputAllowed(L, "eof", false)
	s.sent = true
	if s.phase == PhaseRewrite || s.phase == PhaseAccess {
		s.exited = true
	}
	L.Push(lua.LNumber(1))
	return 1
}

// kongErrorPages are the statuses Kong's nginx template sends to its
// error handler (error_page ... /kong_error_handler).
var kongErrorPages = map[int]bool{
	400: true, 404: true, 405: true, 408: true, 411: true, 412: true, 413: true,
	414: true, 417: true, 494: true, 500: true, 502: true, 503: true, 504: true,
}

// special writes nginx's answer for a status a handler ended with and
// nothing printed: Kong's error page, or nginx's own.
func (s *State) special(status int) {
	s.statusSet = true
	if kongErrorPages[status] {
		s.c.Error(status)
		return
	}
	resp := s.resp()
	resp.SetStatusCode(status)
	if status < 300 || status == 304 {
		resp.ResetBody()
		return
	}
	line := strconv.Itoa(status) + " " + http.StatusText(status)
	resp.Header.SetContentType("text/html")
	resp.SetBodyString("<html>\r\n<head><title>" + line + "</title></head>\r\n<body>\r\n<center><h1>" + line +
		"</h1></center>\r\n<hr><center>kong</center>\r\n</body>\r\n</html>\r\n")
}

// ngxExit is ngx.exit(status): the handler ends; in rewrite and access a
// status >= 200 (or ngx.ERROR) also answers the request.
func (s *State) ngxExit(L *lua.LState) int {
	status := L.CheckInt(1)
	if s.c == nil {
		s.unwind(L, status)
	}
	s.outputAllowed(L, "exit", true)
	if s.phase != PhaseHeaderFilter {
		switch {
		case s.sent:
			s.exited = true
		case status >= 200:
			s.special(status)
			s.exited = true
		case status == -1: // ngx.ERROR
			s.c.Error(500)
			s.exited = true
		}
		if s.exited {
			s.in.CtxSet(keyKongExited, lua.LTrue)
		}
	}
	s.unwind(L, status)
	return 0
}

// ngxRedirect is ngx.redirect(uri, status=302).
func (s *State) ngxRedirect(L *lua.LState) int {
	uri := luavm.CheckString(L, 1)
	status := L.OptInt(2, 302)
	switch status {
	case 301, 302, 303, 307, 308:
	default:
		raise(L, "only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, "+
			"ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed")
	}
	s.outputAllowed(L, "redirect", false)
	s.special(status)
	s.resp().Header.Set("Location", uri)
	s.exited = true
	s.in.CtxSet(keyKongExited, lua.LTrue)
	s.unwind(L, status)
	return 0
}
