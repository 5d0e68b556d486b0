package request

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/proxy"
)

type netipPrefix = netip.Prefix

// confMax is a kong.conf lua_max_* property: an integer in 1..1000, else
// 100 (Kong's default; Kong refuses to start with another value).
func confMax(in *pdk.Instance, key string) int {
	if in.Root == nil || in.Root.Conf == nil {
		return 100
	}
	n, err := strconv.Atoi(strings.TrimSpace(in.Root.Conf.Get(key)))
	if err != nil || n < 1 || n > 1000 {
		return 100
	}
	return n
}

// confTrusted is kong.conf's trusted_ips, for kong.ip.is_trusted outside a
// request.
func confTrusted(in *pdk.Instance) []netip.Prefix {
	if in.Root == nil || in.Root.Conf == nil {
		return nil
	}
	p, _ := proxy.ParseTrustedIPs(in.Root.Conf.List("trusted_ips"))
	return p
}

// isTrusted is kong.ip.is_trusted(ip).
func (s *State) isTrusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	if s.c != nil {
		return s.c.TrustedIP(a)
	}
	a = a.Unmap()
	for _, p := range s.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peer is the TCP peer's address ($realip_remote_addr).
func (s *State) peer() (netip.Addr, int) {
	if a, ok := s.c.RequestCtx.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap(), a.Port
	}
	return netip.Addr{}, 0
}

// local is the address the request came in on ($server_addr, $server_port).
func (s *State) local() (netip.Addr, int) {
	if a, ok := s.c.RequestCtx.LocalAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap(), a.Port
	}
	return netip.Addr{}, 0
}

// host is nginx's $host: the Host header without its port, lower-cased;
// the server name without one. Made once per request.
func (s *State) host() string {
	if s.hostCached {
		return s.hostStr
	}
	h := s.c.OriginalHost
	switch {
	case len(h) == 0:
		s.hostStr = "kong"
	case h[0] == '[' && bytes.IndexByte(h, ']') >= 0:
		s.hostStr = strings.ToLower(string(h[:bytes.IndexByte(h, ']')+1]))
	default:
		if i := bytes.LastIndexByte(h, ':'); i >= 0 {
			h = h[:i]
		}
		s.hostStr = strings.ToLower(string(h))
	}
	s.hostCached = true
	return s.hostStr
}

// scheme is $scheme.
func (s *State) scheme() string {
	if s.c.RequestCtx.IsTLS() {
		return "https"
	}
	return "http"
}

// headerKey turns a header name as Lua gives it into fasthttp's lookup
// key: '_' is '-' (nginx's $http_ and ngx.req.get_headers do the same).
func (s *State) headerKey(name string) string {
	if strings.IndexByte(name, '_') < 0 {
		return name
	}
	s.scratch = append(s.scratch[:0], name...)
	for i, c := range s.scratch {
		if c == '_' {
			s.scratch[i] = '-'
		}
	}
	return string(s.scratch)
}

// Header values (and the like) handed to Lua are interned per worker, as
// LuaJIT interns every string: a client sending the same token on every
// request costs its plugin no allocation to read it. Values longer than
// maxStrLen are boxed each time; the table is emptied at maxStrs.
const (
	maxStrs   = 1024
	maxStrLen = 128
)

// str is b as a Lua string (b may be reused after the call).
func (s *State) str(b []byte) lua.LValue {
	return s.values.Get(b, maxStrs, maxStrLen)
}

// reqHeader is the first value of a request header (false: absent). The
// proxy keeps header names as the client sent them, so the lookup ignores
// case ('_' and '-' alike).
func (s *State) reqHeader(name string) ([]byte, bool) {
	h := s.reqH()
	key := s.headerKey(name)
	if v := h.Peek(key); len(v) > 0 {
		return v, true
	}
	for k, v := range h.All() {
		if equalFoldDash(k, key) {
			return v, true
		}
	}
	return nil, false
}

// equalFoldDash compares header names case-insensitively, '_' and '-' alike.
func equalFoldDash(k []byte, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := 0; i < len(k); i++ {
		a, b := lowerDash(k[i]), lowerDash(name[i])
		if a != b {
			return false
		}
	}
	return true
}

func lowerDash(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	if c == '_' {
		return '-'
	}
	return c
}

// lowerName is a header name as ngx.req.get_headers keys it.
func lowerName(k []byte) string {
	for _, c := range k {
		if c >= 'A' && c <= 'Z' {
			return strings.ToLower(string(k))
		}
	}
	return string(k)
}

// headerIndex is the __index of header tables: a name is looked up again
// lower-cased with '_' as '-' (OpenResty's get_headers metatable).
func headerIndex(L *lua.LState) int {
	t := L.CheckTable(1)
	k, ok := L.Get(2).(lua.LString)
	if !ok {
		return 0
	}
	b := []byte(string(k))
	changed := false
	for i, c := range b {
		if n := lowerDash(c); n != c {
			b[i] = n
			changed = true
		}
	}
	if !changed {
		return 0
	}
	L.Push(t.RawGetString(string(b)))
	return 1
}

// optMax reads an optional max_headers / max_args argument at n the way
// OpenResty does (def when absent, 0 = unlimited).
func optMax(L *lua.LState, n, def int) int {
	v := L.Get(n)
	if v == lua.LNil {
		return def
	}
	num, ok := v.(lua.LNumber)
	if !ok {
		L.ArgError(n, "number expected, got "+v.Type().String())
	}
	return int(num)
}

// pushHeaderTable pushes the request or response headers as
// ngx.req.get_headers / ngx.resp.get_headers build them: lower-case names,
// repeated headers as arrays, at most max (0: all), "truncated" second when
// more. raw keeps the names as sent.
func (s *State) pushHeaderTable(L *lua.LState, all func(func([]byte, []byte) bool), max int, raw bool, what truncation) int {
	t, truncated := s.headerTable(L, all, max, raw)
	L.Push(t)
	if truncated {
		s.truncated(what)
		L.Push(lua.LString("truncated"))
		return 2
	}
	return 1
}

// pushRespHeaderTable pushes ngx.resp.get_headers' table (and "truncated"
// second when some were left out, logged as Kong does).
func (s *State) pushRespHeaderTable(L *lua.LState, max int, raw bool) int {
	t, truncated := s.respHeaderTable(L, &s.resp().Header, max, raw)
	L.Push(t)
	if truncated {
		s.truncated(respHeadersTruncated)
		L.Push(lua.LString("truncated"))
		return 2
	}
	return 1
}

// headerTable builds pushHeaderTable's table.
func (s *State) headerTable(L *lua.LState, all func(func([]byte, []byte) bool), max int, raw bool) (*lua.LTable, bool) {
	t := L.CreateTable(0, 8)
	n := 0
	truncated := false
	all(func(k, v []byte) bool {
		if max > 0 && n >= max {
			truncated = true
			return false
		}
		n++
		var name string
		if raw {
			name = string(k)
		} else {
			name = lowerName(k)
		}
		addValue(L, t, name, lua.LString(v))
		return true
	})
	if !raw {
		t.Metatable = s.hdrMT
	}
	return t, truncated
}

// addValue sets t[name] = v, turning repeated names into arrays.
func addValue(L *lua.LState, t *lua.LTable, name string, v lua.LValue) {
	switch cur := t.RawGetString(name).(type) {
	case *lua.LNilType:
		t.RawSetString(name, v)
	case *lua.LTable:
		cur.Append(v)
	default:
		arr := L.CreateTable(2, 0)
		arr.Append(cur)
		arr.Append(v)
		t.RawSetString(name, arr)
	}
}

// parseArgs decodes a query or form body into t as ngx.req.get_uri_args
// does: '+' and %XX decoded, a bare key is true, repeated keys make arrays,
// empty keys skipped; at most max (0: all), truncated reported.
func parseArgs(L *lua.LState, t *lua.LTable, q []byte, max int) (truncated bool) {
	n := 0
	for len(q) > 0 {
		var part []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			part, q = q[:i], q[i+1:]
		} else {
			part, q = q, nil
		}
		if len(part) == 0 {
			continue
		}
		if max > 0 && n >= max {
			return true
		}
		k, v, hasEq := bytes.Cut(part, []byte{'='})
		key := unescapeArg(k)
		if key == "" {
			continue
		}
		n++
		var val lua.LValue = lua.LTrue
		if hasEq {
			val = lua.LString(unescapeArg(v))
		}
		addValue(L, t, key, val)
	}
	return false
}

// unescapeArg decodes %XX and '+' in a query component.
func unescapeArg(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// unescapePath decodes %XX (not '+'), as nginx decodes $uri.
func unescapePath(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// checkHeaderValue is Kong's checks.validate_header(name, value): the
// value(s) as strings, or Kong's error.
func (s *State) checkHeaderValue(L *lua.LState, nameV, value lua.LValue) (string, []string) {
	name, ok := nameV.(lua.LString)
	if !ok {
		raise(L, "invalid header name "+quoteQ(L, nameV)+": got "+nameV.Type().String()+", expected string")
	}
	return string(name), s.headerValues(L, string(name), value, false)
}

// headerValues normalises a header value as checks.normalize_multi_header
// does ("" is " ", numbers and booleans through tostring), raising
// validate_header's (or validate_headers', multi) messages.
func (s *State) headerValues(L *lua.LState, name string, value lua.LValue, multi bool) []string {
	out := s.vals[:0]
	switch v := value.(type) {
	case lua.LString:
		if v == "" {
			v = " "
		}
		out = append(out, string(v))
		s.vals = out
		return out
	case lua.LNumber, lua.LBool:
		out = append(out, luavm.ToString(v))
		s.vals = out
		return out
	case *lua.LTable:
		for i := 1; ; i++ {
			e := v.RawGetInt(i)
			if e == lua.LNil {
				break
			}
			es, ok := e.(lua.LString)
			if !ok {
				raise(L, "invalid header value in array "+quoteQ(L, lua.LString(name))+": got "+e.Type().String()+", expected string")
			}
			if es == "" {
				es = " "
			}
			out = append(out, string(es))
		}
		s.vals = out
		return out
	}
	if multi {
		raise(L, "invalid header value for "+quoteQ(L, lua.LString(name))+": got "+value.Type().String()+
			", expected string, number, boolean or array of strings")
	}
	raise(L, "invalid header value for "+quoteQ(L, lua.LString(name))+": got "+value.Type().String()+
		", expected array of string, string, number or boolean")
	return nil
}

// checkHeaders is Kong's checks.validate_headers(headers).
func (s *State) checkHeaders(L *lua.LState, v lua.LValue) *lua.LTable {
	t, ok := v.(*lua.LTable)
	if !ok {
		raise(L, "headers must be a table")
	}
	for k, val := t.Next(lua.LNil); k != lua.LNil; k, val = t.Next(k) {
		ks, ok := k.(lua.LString)
		if !ok {
			raise(L, "invalid header name "+quoteQ(L, k)+": got "+k.Type().String()+", expected string")
		}
		s.headerValues(L, string(ks), val, true)
	}
	return t
}

// quoteQ is string.format("%q", v) as LuaJIT does it for Kong's messages:
// strings and numbers quoted; other values make format raise, and so
// does quoteQ, with format's message.
func quoteQ(L *lua.LState, v lua.LValue) string {
	var s string
	switch x := v.(type) {
	case lua.LString:
		s = string(x)
	case lua.LNumber:
		s = luavm.ToString(x)
	default:
		raise(L, "bad argument #2 to 'format' (string expected, got "+v.Type().String()+")")
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString("\\\n")
		case '\r':
			b.WriteString("\\r")
		case 0:
			b.WriteString("\\0")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// respHeaderAll iterates the response headers for ngx.resp.get_headers.
func respHeaderAll(h *fasthttp.ResponseHeader) func(func([]byte, []byte) bool) {
	return func(yield func([]byte, []byte) bool) {
		for k, v := range h.All() {
			if !yield(k, v) {
				return
			}
		}
	}
}

func reqHeaderAll(h *fasthttp.RequestHeader) func(func([]byte, []byte) bool) {
	return func(yield func([]byte, []byte) bool) {
		for k, v := range h.All() {
			if !yield(k, v) {
				return
			}
		}
	}
}

func parseDecimal(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

// headerDeleter is a request or response header.
type headerDeleter interface {
	PeekKeys() [][]byte
	DelBytes(key []byte)
}

// delHeader removes every header whose name equals key ignoring case
// ('_' as '-'): the proxy keeps names as sent, so fasthttp's own Del,
// which compares exactly, would miss "x-foo" sent as "X-Foo". The names
// are copied into s's scratch buffer (DelBytes changes the header).
func (s *State) delHeader(h headerDeleter, key string) {
	spans := s.delSpans[:0]
	buf := s.delBuf[:0]
	for _, k := range h.PeekKeys() {
		if equalFoldDash(k, key) {
			start := len(buf)
			buf = append(buf, k...)
			spans = append(spans, [2]int{start, len(buf)})
		}
	}
	for _, sp := range spans {
		h.DelBytes(buf[sp[0]:sp[1]])
	}
	s.delSpans, s.delBuf = spans, buf
}

// truncation is what Kong's globalpatches.lua reports truncated: the
// ngx.req / ngx.resp getter it wraps (the line of its kong.log.notice).
type truncation int

const (
	reqHeadersTruncated  truncation = 148
	respHeadersTruncated truncation = 167
	uriArgsTruncated     truncation = 186
	postArgsTruncated    truncation = 205
)

// truncated logs Kong's notice for a getter that left some out (its
// globalpatches wrap ngx.req.get_headers, ngx.resp.get_headers,
// ngx.req.get_uri_args and ngx.req.get_post_args, which the PDK calls
// too), under the running plugin's namespace.
func (s *State) truncated(what truncation) {
	if !s.in.Root.LogEnabled(pdk.LogNotice) {
		return
	}
	var msg string
	switch what {
	case reqHeadersTruncated:
		msg = "request headers truncated"
	case respHeadersTruncated:
		msg = "response headers truncated"
	case uriArgsTruncated:
		msg = "uri args truncated"
	default:
		msg = "post args truncated"
	}
	s.in.Log(pdk.LogNotice, "[kong] globalpatches.lua:"+itoa(int(what))+" "+s.pluginPrefix()+msg)
}

// respHeaderTable is ngx.resp.get_headers(max, raw)'s table: ngx_lua's
// entries first (content-type and content-length when set, connection
// always: upgrade on a 101, close when the connection closes after the
// response, keep-alive otherwise), then the other headers up to max minus
// those; truncated when some were left out.
func (s *State) respHeaderTable(L *lua.LState, h *fasthttp.ResponseHeader, max int, raw bool) (*lua.LTable, bool) {
	t := L.CreateTable(0, 8)
	extra := 1
	for k := range h.All() {
		if equalFoldDash(k, "content-type") || equalFoldDash(k, "content-length") {
			extra++
		}
	}
	conn := "keep-alive"
	switch {
	case h.StatusCode() == fasthttp.StatusSwitchingProtocols:
		conn = "upgrade"
	case h.ConnectionClose() || (s.c != nil && s.c.RequestCtx.Request.Header.ConnectionClose()):
		conn = "close"
	}
	t.RawSetString("connection", lua.LString(conn))
	n, truncated := 0, false
	for k, v := range h.All() {
		if equalFoldDash(k, "connection") {
			continue
		}
		special := equalFoldDash(k, "content-type") || equalFoldDash(k, "content-length")
		if !special {
			if max > 0 && n >= max-extra {
				truncated = true
				continue
			}
			n++
		}
		var name string
		switch {
		case special:
			name = lowerName(k)
		case raw:
			name = string(k)
		default:
			name = lowerName(k)
		}
		addValue(L, t, name, lua.LString(v))
	}
	if !raw {
		t.Metatable = s.hdrMT
	}
	return t, truncated
}
