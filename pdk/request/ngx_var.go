package request

import (
	"bytes"
	"crypto/tls"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/router"
)

// newNgxVar is ngx.var: nginx's variables of the current request, read
// through __index and written through __newindex (the few nginx lets
// change, and the variables Kong's nginx template declares with "set").
func (s *State) newNgxVar() *lua.LTable {
	L := s.L
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		if s.hs != nil {
			raise(L, apiDisabled)
		}
		name, ok := L.Get(2).(lua.LString)
		if !ok {
			return 0 // ngx.var[n]: regex captures of the config, none here
		}
		if s.c == nil {
			raise(L, "no request found")
		}
		L.Push(s.varGet(string(name)))
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		name := luavm.CheckString(L, 2)
		if s.hs != nil {
			raise(L, apiDisabled)
		}
		if s.c == nil {
			raise(L, "no request found")
		}
		s.varSet(L, name, L.Get(3))
		return 0
	}))
	t.Metatable = mt
	return t
}

// apiDisabled is what ngx.var raises in the certificate phase, read or
// written, whatever the variable (even $ssl_server_name): nginx runs
// ssl_certificate_by_lua on a fake request whose connection has no fd,
// which lua-nginx-module's ngx_http_lua_ffi_var_get/var_set refuse
// (lua-resty-core's var.lua raises it at the caller). ngx.ssl's
// server_name, raw_client_addr and server_port are the way there.
const apiDisabled = "API disabled in the current context"

// kongTemplateVars are the variables Kong's nginx template declares with
// "set" (writable, empty until set).
var kongTemplateVars = map[string]bool{
	"ctx_ref": true, "kong_proxy_mode": true, "kong_request_id": true,
	"upstream_te": true, "upstream_connection": true, "upstream_upgrade": true,
	"upstream_x_forwarded_for": true, "upstream_x_forwarded_proto": true,
	"upstream_x_forwarded_host": true, "upstream_x_forwarded_port": true,
	"upstream_x_forwarded_path": true, "upstream_x_forwarded_prefix": true,
	"kong_proxy_latency": true, "kong_upstream_latency": true,
}

func secs(d time.Duration) lua.LString {
	return lua.LString(strconv.FormatFloat(d.Seconds(), 'f', 3, 64))
}

// uriVar is $uri: the path decoded and normalised (ngx.req.set_uri
// changes it).
func (s *State) uriVar() string {
	if s.uriSet {
		return s.uri
	}
	return unescapePath(router.NormalizePath(s.rawPath()))
}

// upstreamURI is $upstream_uri: the path, with the query once access is
// over (Kong's access.after).
func (s *State) upstreamURI() string {
	c := s.c
	p := string(c.Upstream.Path)
	if s.phase == PhaseRewrite || s.phase == PhaseAccess {
		return p
	}
	if q := s.query(); len(q) > 0 {
		return p + "?" + string(q)
	}
	if bytes.HasSuffix(c.OriginalURI, []byte{'?'}) {
		return p + "?"
	}
	return p
}

func (s *State) varGet(name string) lua.LValue {
	c := s.c
	rc := c.RequestCtx
	if len(name) > 4 && name[:4] == "ssl_" && sslVars[name] {
		return s.sslVar(name)
	}
	switch name {
	case "uri", "document_uri":
		return lua.LString(s.uriVar())
	case "request_uri":
		return lua.LString(s.origURI())
	case "host":
		return lua.LString(s.host())
	case "scheme":
		return lua.LString(s.scheme())
	case "https":
		if rc.IsTLS() {
			return lua.LString("on")
		}
		return lua.LString("")
	case "http2":
		return lua.LString(s.c.HTTP2())
	case "server_protocol":
		if s.c.HTTP2() != "" {
			return lua.LString("HTTP/2.0")
		}
		if s.reqH().IsHTTP11() {
			return lua.LString("HTTP/1.1")
		}
		return lua.LString("HTTP/1.0")
	case "request_method":
		return s.method()
	case "request":
		return lua.LString(string(s.reqH().Method()) + " " + string(c.OriginalURI) + " " +
			s.varGet("server_protocol").String())
	case "remote_addr":
		return lua.LString(c.ClientIP().String())
	case "binary_remote_addr":
		ip := c.ClientIP()
		b := ip.AsSlice()
		return lua.LString(b)
	case "realip_remote_addr":
		ip, _ := s.peer()
		return lua.LString(ip.String())
	case "remote_port":
		if p, ok := s.remotePort().(lua.LNumber); ok {
			return lua.LString(strconv.Itoa(int(p)))
		}
		return lua.LString("")
	case "realip_remote_port":
		_, port := s.peer()
		return lua.LString(strconv.Itoa(port))
	case "server_addr":
		ip, _ := s.local()
		return lua.LString(ip.String())
	case "server_port":
		_, port := s.local()
		return lua.LString(strconv.Itoa(port))
	case "server_name":
		return lua.LString("kong")
	case "args", "query_string":
		if q := s.query(); len(q) > 0 {
			return lua.LString(q)
		}
		return lua.LNil
	case "is_args":
		if len(s.query()) > 0 {
			return lua.LString("?")
		}
		return lua.LString("")
	case "content_type":
		if v, ok := s.reqHeader("Content-Type"); ok {
			return lua.LString(v)
		}
		return lua.LNil
	case "content_length":
		if v, ok := s.reqHeader("Content-Length"); ok {
			return lua.LString(v)
		}
		return lua.LNil
	case "request_id", "kong_request_id":
		return lua.LString(c.RequestID)
	case "request_time":
		return secs(time.Since(c.Start))
	case "msec":
		return lua.LString(strconv.FormatFloat(float64(time.Now().UnixMilli())/1000, 'f', 3, 64))
	case "request_length":
		n := len(s.reqH().Header())
		if rc.Request.IsBodyStream() {
			n += max(rc.Request.Header.ContentLength(), 0)
		} else {
			n += len(rc.Request.Body())
		}
		return lua.LString(strconv.Itoa(n))
	case "bytes_sent":
		resp := &rc.Response
		return lua.LString(strconv.Itoa(len(resp.Header.Header()) + s.responseBodyLen()))
	case "body_bytes_sent":
		return lua.LString(strconv.Itoa(s.responseBodyLen()))
	case "status":
		return lua.LString(strconv.Itoa(rc.Response.StatusCode()))
	case "upstream_uri":
		return lua.LString(s.upstreamURI())
	case "upstream_host":
		return lua.LString(c.Upstream.Host)
	case "upstream_scheme":
		return lua.LString(c.Upstream.Scheme)
	case "upstream_status":
		if !c.Proxied || !s.upSeen {
			return lua.LNil
		}
		if c.UpstreamErr != nil {
			return lua.LString(strconv.Itoa(rc.Response.StatusCode()))
		}
		return lua.LString(strconv.Itoa(s.upStatus))
	case "upstream_addr":
		if !c.Proxied {
			return lua.LNil
		}
		if len(c.Tries) > 1 {
			// nginx lists every address tried, comma-separated
			var b strings.Builder
			for i, t := range c.Tries {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(net.JoinHostPort(t.IP, strconv.Itoa(t.Port)))
			}
			return lua.LString(b.String())
		}
		return lua.LString(net.JoinHostPort(c.Upstream.Hostname, strconv.Itoa(c.Upstream.Port)))
	case "upstream_response_time", "upstream_header_time", "upstream_connect_time":
		if !c.Proxied || !s.upSeen {
			return lua.LNil
		}
		return secs(c.UpstreamLatency)
	case "upstream_x_forwarded_prefix":
		if v, ok := s.vars[name]; ok {
			return lua.LString(v)
		}
		if c.Matched && c.Match.Prefix != "" && c.Match.Prefix != "/" {
			return lua.LString(c.Match.Prefix)
		}
		return lua.LNil
	case "kong_proxy_mode":
		if v, ok := s.vars[name]; ok {
			return lua.LString(v)
		}
		return lua.LString(s.proxyMode())
	case "hostname":
		h, _ := os.Hostname()
		return lua.LString(h)
	case "connection":
		return lua.LString(strconv.FormatUint(rc.ConnID(), 10))
	case "connection_requests":
		return lua.LString(strconv.FormatUint(rc.ConnRequestNum(), 10))
	case "time_local":
		return lua.LString(time.Now().Format("02/Jan/2006:15:04:05 -0700"))
	case "time_iso8601":
		return lua.LString(time.Now().Format("2006-01-02T15:04:05-07:00"))
	case "pid":
		return lua.LString(strconv.Itoa(os.Getpid()))
	}
	switch {
	case strings.HasPrefix(name, "http_"):
		return s.joinedHeader(name[5:])
	case strings.HasPrefix(name, "arg_"):
		return argVar(s.query(), name[4:])
	case strings.HasPrefix(name, "cookie_"):
		if v := s.reqH().Cookie(name[7:]); v != nil {
			return lua.LString(v)
		}
		return lua.LNil
	case strings.HasPrefix(name, "sent_http_"):
		key := s.headerKey(name[10:])
		for k, v := range rc.Response.Header.All() {
			if equalFoldDash(k, key) {
				return lua.LString(v)
			}
		}
		return lua.LNil
	case strings.HasPrefix(name, "upstream_http_"):
		if !s.upstreamAnswered() {
			return lua.LNil
		}
		key := s.headerKey(name[14:])
		for k, v := range s.upHdr.All() {
			if equalFoldDash(k, key) {
				return lua.LString(v)
			}
		}
		return lua.LNil
	}
	if v, ok := s.vars[name]; ok {
		return lua.LString(v)
	}
	if kongTemplateVars[name] {
		return lua.LString("")
	}
	return lua.LNil
}

// responseBodyLen is the response body's length, without reading a
// streamed body (its Content-Length then).
func (s *State) responseBodyLen() int {
	resp := &s.c.RequestCtx.Response
	if resp.IsBodyStream() {
		return max(resp.Header.ContentLength(), 0)
	}
	return len(resp.Body())
}

// joinedHeader is $http_<name>: every value of the header joined by ", "
// (nginx 1.23+), Cookie's by "; ".
func (s *State) joinedHeader(name string) lua.LValue {
	h := s.reqH()
	out := s.scratch[:0]
	found := false
	sep := ", "
	if strings.EqualFold(name, "cookie") {
		sep = "; "
	}
	for k, v := range h.All() {
		if equalFoldDash(k, name) {
			if found {
				out = append(out, sep...)
			}
			out = append(out, v...)
			found = true
		}
	}
	s.scratch = out
	if !found {
		return lua.LNil
	}
	return s.str(out)
}

// argVar is $arg_<name>: the first argument of that name (any case), as
// sent (not decoded).
func argVar(q []byte, name string) lua.LValue {
	for len(q) > 0 {
		var part []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			part, q = q[:i], q[i+1:]
		} else {
			part, q = q, nil
		}
		k, v, hasEq := bytes.Cut(part, []byte{'='})
		if bytes.EqualFold(k, []byte(name)) {
			if !hasEq {
				return lua.LString("")
			}
			return lua.LString(v)
		}
	}
	return lua.LNil
}

func (s *State) varSet(L *lua.LState, name string, v lua.LValue) {
	var val string
	switch x := v.(type) {
	case *lua.LNilType:
	case lua.LString, lua.LNumber:
		val = luavm.ToString(x)
	default:
		raise(L, "bad variable value type")
	}
	c := s.c
	switch name {
	case "upstream_uri":
		path, q, hasQ := strings.Cut(val, "?")
		c.Upstream.Path = append(c.Upstream.Path[:0], path...)
		if hasQ {
			s.setQuery(q)
		}
		return
	case "upstream_host":
		c.Upstream.Host = val
		return
	case "upstream_scheme":
		c.Upstream.Scheme = val
		return
	case "args", "query_string":
		s.setQuery(val)
		return
	}
	if kongTemplateVars[name] {
		if s.vars == nil {
			s.vars = map[string]string{}
		}
		s.vars[name] = val
		return
	}
	if s.varGet(name) != lua.LNil || strings.HasPrefix(name, "http_") || strings.HasPrefix(name, "arg_") {
		raise(L, `variable "`+name+`" not changeable`)
	}
	raise(L, `variable "`+name+`" not found for writing; maybe it is a built-in variable that is not changeable `+
		`or you forgot to use "set $`+name+` '';" in the config file to define it first`)
}

// tlsVersionName is $ssl_protocol's text (OpenSSL's names).
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return "unknown"
}

// proxyMode is $kong_proxy_mode: "unbuffered" once access.before ran for a
// Route with a Service and request_buffering or response_buffering off
// (Kong then goes on in the @unbuffered* location, which sets it), until
// buffered proxying's subrequest sets it back to "http" (its location's
// value, the variables being shared); else "http".
func (s *State) proxyMode() string {
	c := s.c
	if !s.accessed || !c.Matched || c.Match.Service == nil || c.Match.Route == nil {
		return "http"
	}
	if r := c.Match.Route; r.RequestBuffering && r.ResponseBuffering {
		return "http"
	}
	if c.BufferResponse && c.Proxied && s.phase != PhaseAccess {
		return "http"
	}
	return "unbuffered"
}
