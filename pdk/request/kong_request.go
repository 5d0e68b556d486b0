package request

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/router"
)

// newKongRequest is kong.request (kong/pdk/request.lua).
func (s *State) newKongRequest() *lua.LTable {
	L := s.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"get_scheme":           s.reqGetScheme,
		"get_host":             s.reqGetHost,
		"get_port":             s.reqGetPort,
		"get_forwarded_scheme": s.reqGetForwardedScheme,
		"get_forwarded_host":   s.reqGetForwardedHost,
		"get_forwarded_port":   s.reqGetForwardedPort,
		"get_forwarded_path":   s.reqGetForwardedPath,
		"get_forwarded_prefix": s.reqGetForwardedPrefix,
		"get_http_version":     s.reqGetHTTPVersion,
		"get_method":           s.reqGetMethod,
		"get_path":             s.reqGetPath,
		"get_raw_path":         s.reqGetRawPath,
		"get_path_with_query":  s.reqGetPathWithQuery,
		"get_raw_query":        s.reqGetRawQuery,
		"get_query_arg":        s.reqGetQueryArg,
		"get_query":            s.reqGetQuery,
		"get_header":           s.reqGetHeader,
		"get_headers":          s.reqGetHeaders,
		"get_raw_body":         s.reqGetRawBody,
		"get_body":             s.reqGetBody,
		"get_start_time":       s.reqGetStartTime,
		"get_uri_captures":     s.reqGetURICaptures,
	})
	return t
}

// ctxString is ngx.ctx[key] when it is a string (Kong lets ctx.scheme,
// ctx.host, ctx.request_uri override the variables).
func (s *State) ctxString(key string) (string, bool) {
	v, ok := s.in.CtxGetString(key).(lua.LString)
	return string(v), ok
}

func (s *State) reqGetScheme(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	if v, ok := s.ctxString("scheme"); ok {
		L.Push(lua.LString(v))
		return 1
	}
	L.Push(lua.LString(s.scheme()))
	return 1
}

func (s *State) reqGetHost(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	if v, ok := s.ctxString("host"); ok {
		L.Push(lua.LString(v))
		return 1
	}
	L.Push(lua.LString(s.host()))
	return 1
}

func (s *State) reqGetPort(L *lua.LState) int {
	s.checkNot(L, PhaseInitWorker)
	if s.c == nil {
		return 0
	}
	_, port := s.local()
	L.Push(lua.LNumber(port))
	return 1
}

// trustedPeer is Kong's is_trusted_ip(): the peer is in trusted_ips.
func (s *State) trustedPeer() bool {
	ip, _ := s.peer()
	return s.c.TrustedIP(ip)
}

func (s *State) reqGetForwardedScheme(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	if s.trustedPeer() {
		if v, ok := s.reqHeader("X-Forwarded-Proto"); ok {
			L.Push(lua.LString(strings.ToLower(string(v))))
			return 1
		}
	}
	return s.reqGetScheme(L)
}

// forwardedHost strips userinfo from an X-Forwarded-Host value.
func forwardedHost(h string) string {
	if i := strings.IndexByte(h, '@'); i >= 0 {
		h = h[i+1:]
	}
	return h
}

func (s *State) reqGetForwardedHost(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	if s.trustedPeer() {
		if v, ok := s.reqHeader("X-Forwarded-Host"); ok {
			h := forwardedHost(string(v))
			if i := strings.IndexByte(h, ':'); i >= 0 {
				h = h[:i]
			}
			L.Push(lua.LString(strings.ToLower(h)))
			return 1
		}
	}
	return s.reqGetHost(L)
}

// portNumber is tonumber(s, 10) within 1..65535.
func portNumber(v string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil && n >= 1 && n <= 65535
}

func (s *State) reqGetForwardedPort(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	if s.trustedPeer() {
		if v, ok := s.reqHeader("X-Forwarded-Port"); ok {
			if n, ok := portNumber(string(v)); ok {
				L.Push(lua.LNumber(n))
				return 1
			}
		}
		if v, ok := s.reqHeader("X-Forwarded-Host"); ok {
			h := forwardedHost(string(v))
			if i := strings.IndexByte(h, ':'); i >= 0 {
				if n, ok := portNumber(h[i+1:]); ok {
					L.Push(lua.LNumber(n))
					return 1
				}
			}
		}
	}
	if v, ok := s.in.CtxGetString("host_port").(lua.LNumber); ok {
		L.Push(v)
		return 1
	}
	_, port := s.local()
	L.Push(lua.LNumber(port))
	return 1
}

func (s *State) reqGetForwardedPath(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	if s.trustedPeer() {
		if v, ok := s.reqHeader("X-Forwarded-Path"); ok {
			L.Push(lua.LString(v))
			return 1
		}
	}
	return s.reqGetPath(L)
}

func (s *State) reqGetForwardedPrefix(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	if s.trustedPeer() {
		if v, ok := s.reqHeader("X-Forwarded-Prefix"); ok {
			L.Push(lua.LString(v))
			return 1
		}
	}
	// $upstream_x_forwarded_prefix: the stripped prefix
	if s.c.Matched && s.c.Match.Prefix != "" && s.c.Match.Prefix != "/" {
		L.Push(lua.LString(s.c.Match.Prefix))
		return 1
	}
	return 0
}

// httpVersion is ngx.req.http_version(): 1.0, 1.1 or 2.
func (s *State) httpVersion() lua.LNumber {
	if s.c.HTTP2() != "" {
		return 2
	}
	if s.reqH().IsHTTP11() {
		return 1.1
	}
	return 1.0
}

func (s *State) reqGetHTTPVersion(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	L.Push(s.httpVersion())
	return 1
}

func (s *State) reqGetMethod(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	L.Push(s.method())
	return 1
}

// method is the request's method as a Lua string, without allocating for
// the common ones.
func (s *State) method() lua.LString {
	m := s.reqH().Method()
	switch string(m) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "PATCH":
		return "PATCH"
	case "HEAD":
		return "HEAD"
	case "OPTIONS":
		return "OPTIONS"
	}
	return lua.LString(m)
}

// requestURI is ngx.ctx.request_uri or $request_uri.
func (s *State) requestURI() string {
	if v, ok := s.ctxString("request_uri"); ok {
		return v
	}
	return s.origURI()
}

// origURI is $request_uri as a string, made once per request.
func (s *State) origURI() string {
	if !s.uriCached {
		s.uriStr, s.uriCached = string(s.c.OriginalURI), true
	}
	return s.uriStr
}

func (s *State) rawPath() string {
	uri := s.requestURI()
	if len(uri) > 1 {
		if i := strings.IndexByte(uri[1:], '?'); i >= 0 {
			return uri[:i+1]
		}
	}
	return uri
}

func (s *State) reqGetPath(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	raw := s.rawPath()
	if !s.pathCached || raw != s.pathRaw {
		s.pathRaw, s.path, s.pathCached = raw, router.NormalizePath(raw), true
	}
	L.Push(lua.LString(s.path))
	return 1
}

func (s *State) reqGetRawPath(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	L.Push(lua.LString(s.rawPath()))
	return 1
}

func (s *State) reqGetPathWithQuery(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	L.Push(lua.LString(s.requestURI()))
	return 1
}

// query is $args: the request's query string as plugins left it.
func (s *State) query() []byte { return s.c.RequestCtx.Request.URI().QueryString() }

func (s *State) reqGetRawQuery(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	L.Push(lua.LString(s.query()))
	return 1
}

func (s *State) reqGetQueryArg(L *lua.LState) int {
	s.check(L, phasesRequest)
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "query argument name must be a string")
	}
	if s.c == nil {
		return 0
	}
	t := L.NewTable()
	if parseArgs(L, t, s.query(), s.maxURIArgs) {
		s.truncated(uriArgsTruncated)
	}
	v := t.RawGetString(string(name))
	if arr, ok := v.(*lua.LTable); ok {
		v = arr.RawGetInt(1)
	}
	L.Push(v)
	return 1
}

// checkMax is Kong's max_args / max_headers check.
func checkMax(L *lua.LState, n int, what string) (int, bool) {
	v := L.Get(n)
	if v == lua.LNil {
		return 0, false
	}
	num, ok := v.(lua.LNumber)
	if !ok {
		raise(L, what+" must be a number")
	}
	if num < 1 {
		raise(L, what+" must be >= 1")
	}
	if num > 1000 {
		raise(L, what+" must be <= 1000")
	}
	return int(num), true
}

func (s *State) reqGetQuery(L *lua.LState) int {
	s.check(L, phasesRequest)
	max, ok := checkMax(L, 1, "max_args")
	if !ok {
		max = s.maxURIArgs
	}
	if s.c == nil {
		return 0
	}
	t := L.NewTable()
	truncated := parseArgs(L, t, s.query(), max)
	L.Push(t)
	if truncated {
		s.truncated(uriArgsTruncated)
		L.Push(lua.LString("truncated"))
		return 2
	}
	return 1
}

func (s *State) reqGetHeader(L *lua.LState) int {
	s.check(L, phasesRequest)
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "header name must be a string")
	}
	if s.c == nil {
		return 0
	}
	if v, ok := s.reqHeader(string(name)); ok {
		L.Push(s.str(v))
		return 1
	}
	L.Push(lua.LNil)
	return 1
}

func (s *State) reqGetHeaders(L *lua.LState) int {
	s.check(L, phasesRequest)
	max, ok := checkMax(L, 1, "max_headers")
	if !ok {
		max = s.maxReqHeaders
	}
	if s.c == nil {
		return 0
	}
	return s.pushHeaderTable(L, reqHeaderAll(s.reqH()), max, false, reqHeadersTruncated)
}

func (s *State) reqGetRawBody(L *lua.LState) int {
	s.check(L, beforeContent)
	if s.c == nil {
		L.Push(lua.LString(""))
		return 1
	}
	L.Push(lua.LString(s.c.RequestBody()))
	return 1
}

// Kong's CONTENT_TYPES.
const (
	ctPost     = "application/x-www-form-urlencoded"
	ctJSON     = "application/json"
	ctFormData = "multipart/form-data"
)

func (s *State) reqGetBody(L *lua.LState) int {
	s.check(L, beforeContent)
	var ct string
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
	case lua.LBool:
		if v {
			raise(L, "bad argument #1 to 'lower' (string expected, got boolean)")
		}
	case lua.LString, lua.LNumber:
		ct = luavm.ToString(v)
	default:
		raise(L, "bad argument #1 to 'lower' (string expected, got "+v.Type().String()+")")
	}
	if s.c == nil {
		return 0
	}
	if ct == "" && !lua.LVAsBool(L.Get(1)) {
		v, ok := s.reqHeader("Content-Type")
		if !ok {
			L.Push(lua.LNil)
			L.Push(lua.LString("missing content type"))
			return 2
		}
		ct = string(v)
	}
	return s.decodeBody(L, ct, s.c.RequestBody(), 2, s.maxPostArgs)
}

// decodeBody is the body decoding of kong.request.get_body and
// kong.service.response.get_body: by content type, form arguments (at
// most the max_args argument at maxArg, defMax by default), JSON (a table,
// arrays with array_mt) or multipart; pushes body, err, mime.
func (s *State) decodeBody(L *lua.LState, ct string, body []byte, maxArg, defMax int) int {
	lower := strings.ToLower(ct)
	if i := strings.IndexByte(lower, ';'); i >= 0 {
		lower = lower[:i]
	}
	var v lua.LValue = lua.LNil
	var msg, mime string
	switch {
	case strings.HasPrefix(lower, ctPost):
		max, ok := checkMax(L, maxArg, "max_args")
		if !ok {
			max = defMax
		}
		t := L.NewTable()
		if parseArgs(L, t, body, max) {
			s.truncated(postArgsTruncated)
		}
		v, mime = t, ctPost
	case strings.HasPrefix(lower, ctJSON):
		mime = ctJSON
		if d, _ := s.in.JSON().Decode(L, string(body)); d.Type() == lua.LTTable {
			v = d
		} else {
			msg = "invalid json body"
		}
	case strings.HasPrefix(lower, ctFormData):
		mime = ctFormData
		if t, m := parseMultipart(L, body, ct); t != nil {
			v = t
		} else {
			msg = m
		}
	default:
		msg, mime = "unsupported content type '"+ct+"'", lower
	}
	L.Push(v)
	if msg != "" {
		L.Push(lua.LString(msg))
	} else {
		L.Push(lua.LNil)
	}
	L.Push(lua.LString(mime))
	return 3
}

// parseMultipart is multipart(body, content_type):get_all_with_arrays():
// each part's name to its value, repeated names to arrays.
func parseMultipart(L *lua.LState, body []byte, ct string) (*lua.LTable, string) {
	_, params, err := mime.ParseMediaType(ct)
	if err != nil || params["boundary"] == "" {
		return nil, "unable to decode multipart body"
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	t := L.NewTable()
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "unable to decode multipart body"
		}
		v, err := io.ReadAll(p)
		if err != nil {
			return nil, "unable to read multipart values"
		}
		name := p.FormName()
		if name == "" {
			continue
		}
		addValue(L, t, name, lua.LString(v))
	}
	return t, ""
}

func (s *State) reqGetStartTime(L *lua.LState) int {
	s.check(L, phasesRequest)
	if s.c == nil {
		return 0
	}
	if v, ok := s.in.CtxGetString("KONG_PROCESSING_START").(lua.LNumber); ok {
		L.Push(v)
		return 1
	}
	L.Push(lua.LNumber(s.c.Start.UnixMilli()))
	return 1
}

func (s *State) reqGetURICaptures(L *lua.LState) int {
	s.check(L, phasesRequest)
	ctx, ok := L.Get(1).(*lua.LTable)
	if !ok {
		ctx = s.in.CurrentCtx()
	}
	unnamed := L.NewTable()
	named := L.NewTable()
	if rm, ok := ctx.RawGetString("router_matches").(*lua.LTable); ok {
		if caps, ok := rm.RawGetString("uri_captures").(*lua.LTable); ok {
			caps.ForEach(func(k, v lua.LValue) {
				switch k.(type) {
				case lua.LNumber:
					unnamed.RawSet(k, v)
				case lua.LString:
					named.RawSet(k, v)
				}
			})
		}
	}
	unnamed.Metatable = pdk.ArrayMT(L)
	out := L.CreateTable(0, 2)
	out.RawSetString("unnamed", unnamed)
	out.RawSetString("named", named)
	L.Push(out)
	return 1
}
