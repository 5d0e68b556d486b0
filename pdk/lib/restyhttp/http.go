// Package restyhttp is the module resty.http (lua-resty-http 0.17),
// Go-backed with net/http, one-shot API only: new() -> client; client:set_timeout(ms);
// client:set_timeouts(connect, send, read); client:request_uri(uri,
// params) with params.method (default GET), path, query (string or table),
// headers, body, ssl_verify (default true), ssl_server_name, keepalive
// (false: close the connection). It returns res { status, reason, headers
// (case-insensitive, "_" matches "-", repeated headers as arrays), body,
// has_body } or nil and an error ("timeout", "connection refused", ...).
// The body may also be a table of strings (sent one after the other, as a
// cosocket sends it) or an iterator function returning the next chunk,
// nil at the end or nil and an error (lua-resty-http's body iterators;
// chunked without a Content-Length header). Redirects are not followed.
// Not covered: connect/request/read_body/
// body_reader streaming, proxy options, set_keepalive. parse_uri is
// lua-resty-http's; the clients' methods are the module table's. A host
// name is resolved by Open's resolver (the node's DNS client, as Kong's
// patched cosocket connect does), when it is given one.
package restyhttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

const restyHTTPType = "luahost.resty.http"

type httpClient struct {
	bind.Timeouts
	budget     *bind.Budget
	transports *Transports
	resolve    bind.Resolver // nil: Go's resolver
}

type connectTimeoutKey struct{}

// resolverKey carries the request's bind.Resolver to the shared
// transports' dial.
type resolverKey struct{}

// errHTTPTimeout is a response header that did not come in time.
type errHTTPTimeout struct{}

func (errHTTPTimeout) Error() string   { return "timeout" }
func (errHTTPTimeout) Timeout() bool   { return true }
func (errHTTPTimeout) Temporary() bool { return true }

// Transports are the connection pools of resty.http for every worker of
// a pdk.Root (which holds one), one per TLS verification and server name;
// the zero value is ready.
type Transports struct {
	m sync.Map // "verify|sni" -> *http.Transport
	n atomic.Int64
}

// maxHTTPTransports bounds the shared transports of a Root (one per TLS
// verification and server name); past it a request gets a transport of
// its own, closed after it.
const maxHTTPTransports = 64

// get is the Root's connection pool for requests with these TLS
// settings: connections are kept alive and reused across requests and
// workers, as lua-resty-http's keepalive pool does. The connect timeout
// comes with each request's context.
func (r *Transports) get(verify bool, sni string) (*http.Transport, bool) {
	key := fmt.Sprintf("%t|%s", verify, sni)
	if t, ok := r.m.Load(key); ok {
		return t.(*http.Transport), true
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{}
		if to, ok := ctx.Value(connectTimeoutKey{}).(time.Duration); ok && to > 0 {
			d.Timeout = to
		}
		// lua-resty-http connects with ngx.socket.tcp, whose connect Kong
		// has resolve names with the node's DNS client
		if r, ok := ctx.Value(resolverKey{}).(bind.Resolver); ok && r != nil {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			p, err := strconv.Atoi(port)
			if err != nil {
				return nil, err
			}
			ip, p, msg := r.Peer(ctx, host, p)
			if msg != "" {
				return nil, errors.New(msg)
			}
			addr = net.JoinHostPort(ip, strconv.Itoa(p))
		}
		return d.DialContext(ctx, network, addr)
	}
	tr := &http.Transport{
		DialContext:         dial,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: !verify, ServerName: sni},
		DisableCompression:  true,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     60 * time.Second,
	}
	if r.n.Add(1) > maxHTTPTransports {
		r.n.Add(-1)
		return tr, false
	}
	if t, loaded := r.m.LoadOrStore(key, tr); loaded {
		r.n.Add(-1)
		return t.(*http.Transport), true
	}
	return tr, true
}

func httpErr(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// luaHeaders builds resty.http's headers table: names as received, and a
// metatable finding any spelling (case, "_" for "-").
func luaHeaders(L *lua.LState, h http.Header) *lua.LTable {
	t := L.NewTable()
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vs := h[k]
		if len(vs) == 1 {
			t.RawSetString(k, lua.LString(vs[0]))
			continue
		}
		arr := L.CreateTable(len(vs), 0)
		for i, v := range vs {
			arr.RawSetInt(i+1, lua.LString(v))
		}
		t.RawSetString(k, arr)
	}
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		tbl := L.CheckTable(1)
		key, ok := L.Get(2).(lua.LString)
		if !ok {
			return 0
		}
		want := strings.ReplaceAll(strings.ToLower(string(key)), "_", "-")
		var found lua.LValue = lua.LNil
		tbl.ForEach(func(k, v lua.LValue) {
			if ks, ok := k.(lua.LString); ok && found == lua.LNil &&
				strings.ReplaceAll(strings.ToLower(string(ks)), "_", "-") == want {
				found = v
			}
		})
		L.Push(found)
		return 1
	}))
	L.SetMetatable(t, mt)
	return t
}

func (c *httpClient) requestURI(L *lua.LState, uri string, params *lua.LTable) (*lua.LTable, error) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("bad uri: " + uri)
	}
	method, body, chunked := "GET", []byte(nil), false
	verify, keepalive, sni := true, true, ""
	hdr := http.Header{}
	if params != nil {
		if m, ok := params.RawGetString("method").(lua.LString); ok {
			method = strings.ToUpper(string(m))
		}
		if p, ok := params.RawGetString("path").(lua.LString); ok {
			u.Path, u.RawPath = string(p), ""
		}
		switch q := params.RawGetString("query").(type) {
		case lua.LString:
			u.RawQuery = strings.TrimPrefix(string(q), "?")
		case *lua.LTable:
			vals := url.Values{}
			q.ForEach(func(k, v lua.LValue) {
				if arr, ok := v.(*lua.LTable); ok {
					for i := 1; i <= arr.Len(); i++ {
						vals.Add(k.String(), arr.RawGetInt(i).String())
					}
					return
				}
				vals.Add(k.String(), v.String())
			})
			u.RawQuery = vals.Encode()
		}
		var berr error
		body, chunked, berr = requestBody(L, params.RawGetString("body"))
		if berr != nil {
			return nil, berr
		}
		if h, ok := params.RawGetString("headers").(*lua.LTable); ok {
			h.ForEach(func(k, v lua.LValue) {
				if arr, ok := v.(*lua.LTable); ok {
					for i := 1; i <= arr.Len(); i++ {
						AddHeader(hdr, k.String(), arr.RawGetInt(i).String())
					}
					return
				}
				AddHeader(hdr, k.String(), v.String())
			})
		}
		if v := params.RawGetString("ssl_verify"); v != lua.LNil {
			verify = lua.LVAsBool(v)
		}
		if v := params.RawGetString("keepalive"); v == lua.LFalse {
			keepalive = false
		}
		if s, ok := params.RawGetString("ssl_server_name").(lua.LString); ok {
			sni = string(s)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	if chunked && hdr.Get("Content-Length") == "" {
		// an iterator body without Content-Length goes chunked, as
		// lua-resty-http sends it (a reader of unknown length)
		rd = io.MultiReader(rd)
	}
	// The worker's context is cancelled when its deadline fires: a request
	// never holds the worker past lua_timeout, whatever its own timeouts.
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx = context.WithValue(ctx, connectTimeoutKey{}, c.ConnectTO)
	if c.resolve != nil {
		ctx = context.WithValue(ctx, resolverKey{}, c.resolve)
	}
	// send + read timeouts bound the wait for the response header once the
	// request is written (the shared transport has no per-request
	// ResponseHeaderTimeout)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var headerTimer atomic.Pointer[time.Timer]
	var headerTimedOut atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
		headerTimer.Store(time.AfterFunc(max(c.SendTO+c.ReadTO, 0), func() {
			headerTimedOut.Store(true)
			cancel()
		}))
	}})
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header = hdr
	if h := hdr.Get("Host"); h != "" {
		req.Host = h
	}
	req.Close = !keepalive
	tr, shared := c.transports.get(verify, sni)
	if !shared {
		defer tr.CloseIdleConnections()
	}
	client := &http.Client{
		Transport:     tr,
		Timeout:       max(c.ConnectTO, 0) + max(c.SendTO, 0) + max(c.ReadTO, 0),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if t := headerTimer.Load(); t != nil {
		t.Stop()
	}
	if err != nil {
		if headerTimedOut.Load() {
			return nil, errHTTPTimeout{}
		}
		return nil, err
	}
	defer resp.Body.Close()
	// the body is read into Lua memory: no more than the budget allows
	limit := c.budget.Left()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if !c.budget.Fits(int64(len(data))) {
		return nil, errors.New(bind.ErrNoMemory)
	}
	res := L.NewTable()
	res.RawSetString("status", lua.LNumber(resp.StatusCode))
	reason := resp.Status
	if _, rest, ok := strings.Cut(resp.Status, " "); ok {
		reason = rest
	}
	res.RawSetString("reason", lua.LString(reason))
	res.RawSetString("headers", luaHeaders(L, resp.Header))
	res.RawSetString("has_body", lua.LBool(method != "HEAD" && resp.StatusCode != 204 && resp.StatusCode != 304))
	res.RawSetString("body", lua.LString(data))
	return res, nil
}

// Open registers the preloaded module "resty.http" in L; its clients
// charge response bodies to budget and connect through transports,
// resolving names with resolve. phase is ngx.get_phase()'s answer now
// (nil: no check): new() raises ngx_lua's "API disabled in the context of
// ..." where a cosocket cannot be made, as lua-resty-http's new() calls
// ngx.socket.tcp().
func Open(L *lua.LState, budget *bind.Budget, transports *Transports, resolve bind.Resolver, phase func() string) {
	mt := L.NewTypeMetatable(restyHTTPType)
	check := func(L *lua.LState) *httpClient {
		return bind.CheckUserData[*httpClient](L, 1, "http client expected (called with '.' instead of ':'?)")
	}
	byTimeouts := func(L *lua.LState) *bind.Timeouts { return &check(L).Timeouts }
	// the clients' methods are the module's functions, as lua-resty-http's
	// (its objects' metatable indexes the module): a function replaced in
	// the module table is the one every client calls
	methods := map[string]lua.LGFunction{
		"parse_uri": parseURI,
		"request_uri": func(L *lua.LState) int {
			c := check(L)
			params, _ := L.Get(3).(*lua.LTable)
			res, err := c.requestURI(L, luavm.CheckString(L, 2), params)
			if err != nil {
				return bind.Fail(L, httpErr(err))
			}
			L.Push(res)
			return 1
		},
	}
	L.PreloadModule("resty.http", func(L *lua.LState) int {
		mod := L.SetFuncs(L.SetFuncs(L.NewTable(), bind.TimeoutMethods(byTimeouts)), methods)
		mt.RawSetString("__index", mod)
		L.SetFuncs(mod, map[string]lua.LGFunction{
			"new": func(L *lua.LState) int {
				if phase != nil {
					bind.CheckContext(L, phase(), bind.Yieldable)
				}
				ud := bind.NewUserData(L, &httpClient{Timeouts: bind.DefaultTimeouts(), budget: budget, transports: transports,
					resolve: resolve}, mt)
				L.Push(ud)
				return 1
			},
		})
		mod.RawSetString("_VERSION", lua.LString("0.17.1"))
		L.Push(mod)
		return 1
	})
}

// requestBody reads params.body: a string, a table of strings, or an
// iterator function (called until it returns nil; nil and an error fails
// the request). chunked: it came from an iterator.
func requestBody(L *lua.LState, v lua.LValue) ([]byte, bool, error) {
	switch b := v.(type) {
	case *lua.LNilType:
		return nil, false, nil
	case lua.LString:
		return []byte(b), false, nil
	case lua.LNumber:
		return []byte(luavm.ToString(b)), false, nil
	case *lua.LTable:
		var buf bytes.Buffer
		for i := 1; i <= b.Len(); i++ {
			switch e := b.RawGetInt(i).(type) {
			case lua.LString:
				buf.WriteString(string(e))
			case lua.LNumber:
				buf.WriteString(luavm.ToString(e))
			default:
				return nil, false, fmt.Errorf("bad argument #1 to 'send' (bad data type %s found)", e.Type().String())
			}
		}
		return buf.Bytes(), false, nil
	case *lua.LFunction:
		buf := []byte{}
		for {
			if err := L.CallByParam(lua.P{Fn: b, NRet: 2, Protect: true}); err != nil {
				return nil, false, err
			}
			chunk, cerr := L.Get(-2), L.Get(-1)
			L.Pop(2)
			switch c := chunk.(type) {
			case lua.LString:
				buf = append(buf, c...)
				continue
			case lua.LNumber:
				buf = append(buf, luavm.ToString(c)...)
				continue
			}
			if cerr != lua.LNil {
				return nil, false, errors.New(luavm.ToString(cerr))
			}
			return buf, true, nil
		}
	}
	return nil, false, fmt.Errorf("bad argument #1 to 'send' (bad data type %s found)", v.Type().String())
}

// uriPattern is lua-resty-http's parse_uri pattern: scheme, host (an IPv6
// address in brackets, kept), port, path, query.
var uriPattern = regexp.MustCompile(`^(?:(http[s]?):)?//((?:[^\[\]:/\?]+)|(?:\[.+\]))(?::(\d+))?([^\?]*)\??(.*)`)

// parseURI is http:parse_uri(uri [, query_in_path]) -> { scheme, host,
// port, path, query } or nil and an error, as lua-resty-http's: the port
// defaults by scheme, the path to "/"; with query_in_path (the default)
// a query is appended to the path and the fifth field is nil. A URI
// without a scheme takes the current request's (ngx.var.scheme).
func parseURI(L *lua.LState) int {
	uri := luavm.CheckString(L, 2)
	inPath := L.Get(3) == lua.LNil || lua.LVAsBool(L.Get(3))
	m := uriPattern.FindStringSubmatchIndex(uri)
	if m == nil {
		return bind.Fail(L, "bad uri: "+uri)
	}
	group := func(i int) (string, bool) {
		if m[2*i] < 0 {
			return "", false
		}
		return uri[m[2*i]:m[2*i+1]], true
	}
	scheme, ok := group(1)
	if !ok {
		// the request's scheme: ngx.var.scheme, where there is a request
		var v lua.LValue = lua.LNil
		if ngx, ok := L.GetGlobal("ngx").(*lua.LTable); ok {
			v = L.GetField(L.GetField(ngx, "var"), "scheme")
		}
		if s, ok := v.(lua.LString); ok && (s == "http" || s == "https") {
			scheme = string(s)
		} else {
			return bind.Fail(L, "schemaless URIs require a request context: "+uri)
		}
	}
	host, _ := group(2)
	port := 80
	if scheme == "https" {
		port = 443
	}
	if p, ok := group(3); ok {
		port, _ = strconv.Atoi(p)
	}
	path, _ := group(4)
	if path == "" {
		path = "/"
	}
	query, _ := group(5)
	t := L.CreateTable(5, 0)
	t.RawSetInt(1, lua.LString(scheme))
	t.RawSetInt(2, lua.LString(host))
	t.RawSetInt(3, lua.LNumber(port))
	if inPath && query != "" {
		path += "?" + query
		t.RawSetInt(4, lua.LString(path))
	} else {
		t.RawSetInt(4, lua.LString(path))
		t.RawSetInt(5, lua.LString(query))
	}
	L.Push(t)
	return 1
}

// goHeaders are the request headers net/http reads or writes itself (by
// their canonical names): kept canonical so it sees them.
var goHeaders = map[string]bool{
	"Host": true, "User-Agent": true, "Content-Length": true, "Transfer-Encoding": true, "Trailer": true,
	"Connection": true, "Accept-Encoding": true, "Expect": true, "Range": true,
}

// AddHeader adds a request header under the name the caller gave, as
// lua-resty-http writes it (net/http would canonicalise it), but for the
// ones net/http handles itself (the spec helpers' clients use it too).
func AddHeader(h http.Header, name, value string) {
	if canon := textproto.CanonicalMIMEHeaderKey(name); goHeaders[canon] || canon == name {
		h.Add(canon, value)
		return
	}
	h[name] = append(h[name], value)
}
