package request

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/router"
)

// newKongService is kong.service with kong.service.request and
// kong.service.response (kong/pdk/service.lua, service/request.lua,
// service/response.lua).
func (s *State) newKongService() *lua.LTable {
	L := s.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"set_upstream":              s.svcSetUpstream,
		"set_target":                s.svcSetTarget,
		"set_target_retry_callback": s.svcSetRetryCallback,
		"set_retries":               s.svcSetRetries,
		"set_timeouts":              s.svcSetTimeouts,
		"set_tls_cert_key":          s.svcSetTLSCertKey,
		"set_tls_verify":            s.svcSetTLSVerify,
		"set_tls_verify_depth":      s.svcSetTLSVerifyDepth,
		"set_tls_verify_store":      s.svcSetTLSVerifyStore,
	})
	req := L.NewTable()
	L.SetFuncs(req, map[string]lua.LGFunction{
		"enable_buffering": s.sreqEnableBuffering,
		"set_scheme":       s.sreqSetScheme,
		"set_path":         s.sreqSetPath,
		"set_raw_query":    s.sreqSetRawQuery,
		"set_method":       s.sreqSetMethod,
		"set_query":        s.sreqSetQuery,
		"clear_query_arg":  s.sreqClearQueryArg,
		"set_header":       s.sreqSetHeader,
		"add_header":       s.sreqAddHeader,
		"clear_header":     s.sreqClearHeader,
		"set_headers":      s.sreqSetHeaders,
		"set_raw_body":     s.sreqSetRawBody,
		"set_body":         s.sreqSetBody,
		"enable_tls":       s.sreqTLS,
		"disable_tls":      s.sreqTLS,
	})
	t.RawSetString("request", req)
	resp := L.NewTable()
	L.SetFuncs(resp, map[string]lua.LGFunction{
		"get_status":   s.srespGetStatus,
		"get_headers":  s.srespGetHeaders,
		"get_header":   s.srespGetHeader,
		"get_raw_body": s.srespGetRawBody,
		"get_body":     s.srespGetBody,
	})
	t.RawSetString("response", resp)
	return t
}

// balancerData is ngx.ctx.balancer_data (created on first use).
func (s *State) balancerData() *lua.LTable {
	ctx := s.in.CurrentCtx()
	if t, ok := ctx.RawGetString("balancer_data").(*lua.LTable); ok {
		return t
	}
	t := s.L.NewTable()
	ctx.RawSetString("balancer_data", t)
	return t
}

func (s *State) svcSetUpstream(L *lua.LState) int {
	s.check(L, PhaseAccess)
	host, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "host must be a string")
	}
	// Upstream entities (Kong's balancer) are not served yet: no name
	// resolves, as in Kong for an unknown one.
	L.Push(lua.LNil)
	L.Push(lua.LString("could not find an Upstream named '" + string(host) + "'"))
	return 2
}

// checkInt is Kong's "<what> must be an integer" and range checks.
func checkInt(L *lua.LState, v lua.LValue, what string, min, max float64) int {
	n, ok := v.(lua.LNumber)
	if !ok || math.Floor(float64(n)) != float64(n) {
		raise(L, what+" must be an integer")
	}
	if float64(n) < min || float64(n) > max {
		raise(L, what+" must be an integer between "+luavm.FormatNumber(min)+" and "+luavm.FormatNumber(max)+
			": given "+luavm.FormatNumber(float64(n)))
	}
	return int(n)
}

func (s *State) svcSetTarget(L *lua.LState) int {
	s.check(L, serviceTarget)
	host, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "host must be a string")
	}
	port := checkInt(L, L.Get(2), "port", 0, 65535)
	if s.c == nil {
		return 0
	}
	up := &s.c.Upstream
	up.Host = string(host)
	up.Hostname, up.Port = string(host), port
	bd := s.balancerData()
	bd.RawSetString("host", host)
	bd.RawSetString("port", lua.LNumber(port))
	return 0
}

func (s *State) svcSetRetryCallback(L *lua.LState) int {
	s.check(L, PhaseAccess)
	fn, ok := L.Get(1).(*lua.LFunction)
	if !ok {
		raise(L, "retry_callback must be a function")
	}
	if s.c != nil {
		s.balancerData().RawSetString("retry_callback", fn)
	}
	return 0
}

func (s *State) svcSetRetries(L *lua.LState) int {
	s.check(L, PhaseAccess)
	n := checkInt(L, L.Get(1), "retries", 0, 32767)
	if s.c != nil {
		s.balancerData().RawSetString("retries", lua.LNumber(n))
	}
	return 0
}

func (s *State) svcSetTimeouts(L *lua.LState) int {
	s.check(L, PhaseAccess)
	c := checkInt(L, L.Get(1), "connect_timeout", 1, 2147483646)
	w := checkInt(L, L.Get(2), "write_timeout", 1, 2147483646)
	r := checkInt(L, L.Get(3), "read_timeout", 1, 2147483646)
	if s.c != nil {
		bd := s.balancerData()
		bd.RawSetString("connect_timeout", lua.LNumber(c))
		bd.RawSetString("write_timeout", lua.LNumber(w))
		bd.RawSetString("read_timeout", lua.LNumber(r))
	}
	return 0
}

func notSupported(L *lua.LState) int {
	L.Push(lua.LNil)
	L.Push(lua.LString("not supported"))
	return 2
}

func (s *State) svcSetTLSCertKey(L *lua.LState) int {
	s.check(L, serviceTarget)
	// resty.openssl's parsed objects are cdata in Kong; there is no cdata here
	raise(L, "chain must be a parsed cdata object")
	return 0
}

func (s *State) svcSetTLSVerify(L *lua.LState) int {
	s.check(L, serviceTarget)
	if _, ok := L.Get(1).(lua.LBool); !ok {
		raise(L, "argument must be a boolean")
	}
	return notSupported(L)
}

func (s *State) svcSetTLSVerifyDepth(L *lua.LState) int {
	s.check(L, serviceTarget)
	if _, ok := L.Get(1).(lua.LNumber); !ok {
		raise(L, "argument must be a number")
	}
	return notSupported(L)
}

func (s *State) svcSetTLSVerifyStore(L *lua.LState) int {
	s.check(L, serviceTarget)
	if _, ok := L.Get(1).(*lua.LTable); !ok {
		raise(L, "argument must be a resty.openssl.x509.store object")
	}
	return notSupported(L)
}

func (s *State) sreqEnableBuffering(L *lua.LState) int {
	s.check(L, accessRewriteBal)
	if s.c != nil {
		s.c.BufferResponse = true
		s.in.CurrentCtx().RawSetString("buffered_proxying", lua.LTrue)
	}
	return 0
}

func (s *State) sreqSetScheme(L *lua.LState) int {
	s.check(L, accessRewriteBal)
	scheme, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "scheme must be a string")
	}
	if scheme != "http" && scheme != "https" {
		raise(L, "invalid scheme: "+string(scheme))
	}
	if s.c != nil {
		s.c.Upstream.Scheme = string(scheme)
	}
	return 0
}

func (s *State) sreqSetPath(L *lua.LState) int {
	s.check(L, accessRewriteBal)
	path, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "path must be a string")
	}
	if len(path) == 0 || path[0] != '/' {
		raise(L, "path must start with /")
	}
	if s.c != nil {
		s.c.Upstream.Path = append(s.c.Upstream.Path[:0], router.EscapeURI(string(path))...)
	}
	return 0
}

// setQuery is ngx.req.set_uri_args(q): the request's (and upstream's)
// query string.
func (s *State) setQuery(q string) {
	s.c.RequestCtx.Request.URI().SetQueryString(q)
}

func (s *State) sreqSetRawQuery(L *lua.LState) int {
	s.check(L, accessAndRewrite)
	q, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "query must be a string")
	}
	if s.c != nil {
		s.setQuery(string(q))
	}
	return 0
}

// acceptedMethods are kong.service.request.set_method's.
var acceptedMethods = map[string]bool{
	"GET": true, "HEAD": true, "PUT": true, "POST": true, "DELETE": true, "OPTIONS": true,
	"MKCOL": true, "COPY": true, "MOVE": true, "PROPFIND": true, "PROPPATCH": true,
	"LOCK": true, "UNLOCK": true, "PATCH": true, "TRACE": true,
}

func (s *State) sreqSetMethod(L *lua.LState) int {
	s.check(L, accessAndRewrite)
	m, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "method must be a string")
	}
	if !acceptedMethods[string(m)] {
		raise(L, "invalid method: "+string(m))
	}
	if s.c != nil {
		s.c.RequestCtx.Request.Header.SetMethod(string(m))
	}
	return 0
}

// encodeArg is ngx.encode_args({[k] = v}) for one key: "" for false, the
// bare key for true, k=v for strings and numbers, repeated for arrays.
func encodeArg(k string, v lua.LValue) (string, string) {
	ek := pdk.EscapeURI(k, 2)
	one := func(v lua.LValue) (string, string) {
		switch x := v.(type) {
		case lua.LBool:
			if !x {
				return "", ""
			}
			return ek, ""
		case lua.LString, lua.LNumber:
			return ek + "=" + pdk.EscapeURI(luavm.ToString(x), 2), ""
		}
		return "", "attempt to use " + v.Type().String() + " as query arg value"
	}
	if arr, ok := v.(*lua.LTable); ok {
		var parts []string
		for i := 1; i <= arr.Len(); i++ {
			p, err := one(arr.RawGetInt(i))
			if err != "" {
				return "", err
			}
			if p != "" {
				parts = append(parts, p)
			}
		}
		return strings.Join(parts, "&"), ""
	}
	return one(v)
}

// orderedArgs is Kong's make_ordered_args: each key encoded alone, the
// pieces sorted and joined by "&".
func orderedArgs(t *lua.LTable) (string, string) {
	var out []string
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		ks, ok := k.(lua.LString)
		if !ok {
			return "", "arg keys must be strings"
		}
		p, err := encodeArg(string(ks), v)
		if err != "" {
			return "", err
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return strings.Join(out, "&"), ""
}

func (s *State) sreqSetQuery(L *lua.LState) int {
	s.check(L, accessAndRewrite)
	t, ok := L.Get(1).(*lua.LTable)
	if !ok {
		raise(L, "args must be a table")
	}
	q, err := orderedArgs(t)
	if err != "" {
		raise(L, err)
	}
	if s.c != nil {
		s.setQuery(q)
	}
	return 0
}

func (s *State) sreqClearQueryArg(L *lua.LState) int {
	s.check(L, accessAndRewrite)
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "query argument name must be a string")
	}
	if s.c == nil {
		return 0
	}
	q := string(s.query())
	if q == "" {
		return 0
	}
	s.setQuery(removeSearchParam(q, string(name)))
	return 0
}

// removeSearchParam is Kong's clear_query_arg on a raw query: the query
// parsed as URLSearchParams (resty.ada: pairs split on '&', empty ones
// skipped, '+' a space, %XX decoded), every pair named name dropped, the
// rest serialised again as application/x-www-form-urlencoded with a
// space as %20 (Kong turns ada's '+' into %20). Every kept pair is thus
// re-encoded: "valu%651" goes upstream as "value1", "a" as "a=".
func removeSearchParam(q, name string) string {
	var out []byte
	for _, p := range strings.Split(q, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		key := unescapeArg([]byte(k))
		if key == name {
			continue
		}
		if out != nil {
			out = append(out, '&')
		}
		out = appendFormEncoded(out, key)
		out = append(out, '=')
		out = appendFormEncoded(out, unescapeArg([]byte(v)))
	}
	return string(out)
}

// appendFormEncoded appends s percent-encoded with the WHATWG
// application/x-www-form-urlencoded set (all but ASCII letters, digits
// and "*-._"), upper-case hex, a space as %20.
func appendFormEncoded(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '*' || c == '-' || c == '.' || c == '_' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hex[c>>4], hex[c&15])
	}
	return dst
}

// setReqHeader is ngx.req.set_header(name, values): every value replaced
// (none: cleared).
func (s *State) setReqHeader(name string, vals []string) {
	h := &s.c.RequestCtx.Request.Header
	key := s.headerKey(name)
	s.delHeader(h, key)
	for i, v := range vals {
		if i == 0 {
			h.Set(key, v)
		} else {
			h.Add(key, v)
		}
	}
}

func (s *State) sreqSetHeader(L *lua.LState) int {
	s.check(L, accessRewriteBal)
	name, vals := s.checkHeaderValue(L, L.Get(1), L.Get(2))
	if strings.EqualFold(name, ":authority") {
		L.Push(lua.LNil)
		L.Push(lua.LString("cannot set :authority pseudo-header on non-grpc requests"))
		return 2
	}
	if s.c == nil {
		return 0
	}
	if strings.EqualFold(name, "host") {
		s.c.Upstream.Host = luavm.ToString(L.Get(2))
	}
	s.setReqHeader(name, vals)
	return 0
}

func (s *State) sreqAddHeader(L *lua.LState) int {
	s.check(L, accessAndRewrite)
	name, vals := s.checkHeaderValue(L, L.Get(1), L.Get(2))
	if s.c == nil {
		return 0
	}
	if strings.EqualFold(name, "host") {
		s.c.Upstream.Host = luavm.ToString(L.Get(2))
	}
	h := &s.c.RequestCtx.Request.Header
	for _, v := range vals {
		h.Add(s.headerKey(name), v)
	}
	return 0
}

func (s *State) sreqClearHeader(L *lua.LState) int {
	s.check(L, accessAndRewrite)
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "header must be a string")
	}
	if s.c != nil {
		s.delHeader(&s.c.RequestCtx.Request.Header, s.headerKey(string(name)))
	}
	return 0
}

func (s *State) sreqSetHeaders(L *lua.LState) int {
	s.check(L, accessAndRewrite)
	if _, ok := L.Get(1).(*lua.LTable); !ok {
		raise(L, "headers must be a table")
	}
	t := s.checkHeaders(L, L.Get(1))
	if s.c == nil {
		return 0
	}
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		name := string(k.(lua.LString))
		if strings.EqualFold(name, "host") {
			s.c.Upstream.Host = luavm.ToString(v)
		}
		s.setReqHeader(name, s.headerValues(L, name, v, true))
	}
	return 0
}

func (s *State) sreqSetRawBody(L *lua.LState) int {
	s.check(L, accessRewriteBal)
	body, ok := L.Get(1).(lua.LString)
	if !ok {
		raise(L, "body must be a string")
	}
	if s.c != nil {
		s.c.RequestCtx.Request.SetBodyString(string(body))
	}
	return 0
}

func (s *State) sreqSetBody(L *lua.LState) int {
	s.check(L, accessAndRewrite)
	args, ok := L.Get(1).(*lua.LTable)
	if !ok {
		raise(L, "args must be a table")
	}
	var mime string
	switch m := L.Get(2).(type) {
	case *lua.LNilType:
	case lua.LBool:
		if m {
			raise(L, "mime must be a string")
		}
	case lua.LString:
		mime = string(m)
	default:
		raise(L, "mime must be a string")
	}
	if s.c == nil {
		return 0
	}
	if mime == "" {
		v, ok := s.reqHeader("Content-Type")
		if !ok {
			L.Push(lua.LNil)
			L.Push(lua.LString("content type was neither explicitly given as an argument or received as a header"))
			return 2
		}
		mime = string(v)
	}
	bare := mime
	if i := strings.IndexByte(mime, ';'); i >= 0 {
		bare = mime[:i]
	}
	var body, ct string
	switch bare {
	case ctPost:
		q, err := orderedArgs(args)
		if err != "" {
			raise(L, err)
		}
		body, ct = q, mime
	case ctJSON:
		out, err := s.in.JSON().Encode(L, args)
		if err != "" {
			raise(L, err)
		}
		body, ct = out, mime
	case ctFormData:
		body, ct = formData(L, args, mime)
	default:
		raise(L, "unsupported content type "+mime)
	}
	s.c.RequestCtx.Request.SetBodyString(body)
	s.setReqHeader("Content-Type", []string{ct})
	L.Push(lua.LTrue)
	return 1
}

// formData is Kong's multipart/form-data encoder of set_body: parts in key
// order, the mime's boundary or a random one not found in any value.
func formData(L *lua.LState, args *lua.LTable, mime string) (string, string) {
	boundary, ok := "", false
	if at := strings.Index(mime, "boundary="); at >= 0 {
		b := mime[at+9:]
		if strings.HasPrefix(b, `"`) {
			if end := strings.IndexByte(b[1:], '"'); end >= 0 {
				b = b[1 : end+1]
			} else {
				b = b[1:]
			}
		}
		boundary, ok = b, true
	}
	var keys []string
	vals := map[string]string{}
	for k, v := args.Next(lua.LNil); k != lua.LNil; k, v = args.Next(k) {
		ks, isStr := k.(lua.LString)
		if !isStr {
			raise(L, "invalid key "+quoteQ(L, k)+": got "+k.Type().String()+", expected string")
		}
		switch v.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
		default:
			raise(L, "invalid value "+quoteQ(L, k)+": got "+v.Type().String()+", expected string, number or boolean")
		}
		keys = append(keys, string(ks))
		vals[string(ks)] = luavm.ToString(v)
	}
	for {
		if !ok {
			boundary = strconv.Itoa(1 + rand.IntN(10000000000))
			ok = true
		}
		for _, v := range vals {
			if strings.Contains(v, "\n--"+boundary) {
				ok = false
			}
		}
		if ok {
			break
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("--" + boundary + "\r\n")
		b.WriteString(`Content-Disposition: form-data; name="` + k + "\"\r\n\r\n")
		b.WriteString(vals[k])
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String(), ctFormData + "; boundary=" + boundary
}

func (s *State) sreqTLS(L *lua.LState) int {
	s.check(L, preReadAndBalancer)
	return notSupported(L)
}
