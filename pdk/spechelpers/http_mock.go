package spechelpers

// The server behind spec.helpers.http_mock (host/lua/spec/helpers/
// http_mock.lua). Kong's runs an nginx whose locations run the routes'
// Lua code (access, content, log phases) and keeps every request/response
// pair in a shared dict; this one is a Go HTTP server that runs the same
// route code in a Lua state of its own (built as a spec's: cjson and the
// other modules are there), one request at a time, with an ngx table for
// the request (print, say, exit, status, header, req.*, var, ctx), and
// keeps the sessions in Kong's shape: { start_time, end_time, req =
// { method, uri, headers, body }, resp = { status, headers, body }, err }.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// MockRoute is one location of an http_mock.
type MockRoute struct {
	Path                 string // nginx location: prefix, or "= /exact"
	Access, Content, Log string // Lua code of each phase
	// HeaderFilter is the header_filter phase's code (Kong's template
	// runs the route's header field when it has a header_filter one)
	HeaderFilter string
}

// MockLogOpts are http_mock's log_opts.
type MockLogOpts struct {
	Req, ReqBody, Resp, RespBody bool
}

// HTTPMock is a running http_mock.
type HTTPMock struct {
	ln      net.Listener
	srv     *http.Server
	opts    MockLogOpts
	luaMu   sync.Mutex // the state runs one request at a time
	L       *lua.LState
	release func()
	base    lua.LValue // the state's own ngx, behind the request's
	routes  []mockRoute
	logMu   sync.Mutex
	logs    []map[string]any
	flight  sync.WaitGroup
	pending atomic.Int64
	started bool
}

type mockRoute struct {
	prefix               string
	exact                bool
	access, content, log *lua.LFunction
	header               *lua.LFunction
}

// errExit is ngx.exit's unwinding.
var errExit = errors.New("ngx.exit")

// NewHTTPMock listens on port (0: any) and compiles the routes in L, which
// the mock owns from now on (release is called by Stop).
func NewHTTPMock(port int, routes []MockRoute, opts MockLogOpts, L *lua.LState, release func()) (*HTTPMock, error) {
	m := &HTTPMock{opts: opts, L: L, release: release, base: L.GetGlobal("ngx")}
	for _, r := range routes {
		mr := mockRoute{prefix: r.Path}
		if rest, ok := strings.CutPrefix(r.Path, "="); ok {
			mr.prefix, mr.exact = strings.TrimSpace(rest), true
		}
		for _, ph := range []struct {
			code string
			dst  **lua.LFunction
			name string
		}{{r.Access, &mr.access, "access"}, {r.Content, &mr.content, "content"}, {r.Log, &mr.log, "log"}, {r.HeaderFilter, &mr.header, "header_filter"}} {
			if strings.TrimSpace(ph.code) == "" {
				continue
			}
			proto, err := luavm.Compile("http_mock "+r.Path+" "+ph.name, []byte(ph.code))
			if err != nil {
				release()
				return nil, fmt.Errorf("http_mock route %s (%s): %w", r.Path, ph.name, err)
			}
			*ph.dst = L.NewFunctionFromProto(proto)
		}
		m.routes = append(m.routes, mr)
	}
	// nginx: an exact location first, then the longest prefix
	sort.SliceStable(m.routes, func(i, j int) bool {
		if m.routes[i].exact != m.routes[j].exact {
			return m.routes[i].exact
		}
		return len(m.routes[i].prefix) > len(m.routes[j].prefix)
	})
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		release()
		return nil, err
	}
	m.ln = rawListener{ln}
	m.srv = &http.Server{Handler: http.HandlerFunc(m.serve), ConnContext: func(ctx context.Context, c net.Conn) context.Context {
		if rc, ok := c.(*rawConn); ok {
			return context.WithValue(ctx, rawConnKey{}, rc)
		}
		return ctx
	}}
	return m, nil
}

// rawListener's connections keep the bytes they read: nginx gives
// ngx.req.get_headers(nil, true) the header names as the client wrote
// them, where net/http canonicalises them.
type rawListener struct{ net.Listener }

func (l rawListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &rawConn{Conn: c}, nil
}

type rawConnKey struct{}

type rawConn struct {
	net.Conn
	mu  sync.Mutex
	buf []byte // read and not yet matched to a request
}

func (c *rawConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.buf = append(c.buf, p[:n]...)
		c.mu.Unlock()
	}
	return n, err
}

// headerNames finds the head of the request "method target" in what was
// read and returns its header names as written, by canonical name (the
// first spelling of each); what it read up to that head's end is dropped.
func (c *rawConn) headerNames(method, target string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	line := []byte(method + " " + target + " ")
	i := bytes.Index(c.buf, line)
	if i < 0 {
		return nil
	}
	end := bytes.Index(c.buf[i:], []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	head := c.buf[i : i+end]
	c.buf = append([]byte(nil), c.buf[i+end+4:]...)
	names := map[string]string{}
	for _, l := range bytes.Split(head, []byte("\r\n"))[1:] {
		name, _, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		n := strings.TrimSpace(string(name))
		if k := textproto.CanonicalMIMEHeaderKey(n); names[k] == "" {
			names[k] = n
		}
	}
	return names
}

// rawNames is the request's header names as the client wrote them, by
// canonical name (nil when unknown).
func rawNames(r *http.Request) map[string]string {
	if rc, ok := r.Context().Value(rawConnKey{}).(*rawConn); ok {
		return rc.headerNames(r.Method, r.RequestURI)
	}
	return nil
}

// Port is the port the mock listens on.
func (m *HTTPMock) Port() int { return m.ln.Addr().(*net.TCPAddr).Port }

// Start serves (the socket listened since NewHTTPMock).
func (m *HTTPMock) Start() {
	if m.started {
		return
	}
	m.started = true
	go m.srv.Serve(m.ln)
}

// Stop closes the server and releases the state.
func (m *HTTPMock) Stop() {
	if m.srv == nil {
		return
	}
	if m.started {
		m.srv.Shutdown(context.Background())
	} else {
		m.ln.Close()
	}
	m.srv = nil
	m.flight.Wait()
	m.luaMu.Lock()
	m.release()
	m.luaMu.Unlock()
}

// Pending is the number of requests being served.
func (m *HTTPMock) Pending() int { return int(m.pending.Load()) }

// TakeLogs returns the sessions logged since the last call, as JSON.
func (m *HTTPMock) TakeLogs() []byte {
	m.logMu.Lock()
	logs := m.logs
	m.logs = nil
	m.logMu.Unlock()
	if logs == nil {
		logs = []map[string]any{}
	}
	b, _ := json.Marshal(logs)
	return b
}

// Purge forgets the sessions logged.
func (m *HTTPMock) Purge() {
	m.logMu.Lock()
	m.logs = nil
	m.logMu.Unlock()
}

func (m *HTTPMock) route(path string) *mockRoute {
	for i := range m.routes {
		r := &m.routes[i]
		if (r.exact && path == r.prefix) || (!r.exact && strings.HasPrefix(path, r.prefix)) {
			return r
		}
	}
	return nil
}

// mockReq is the request being served, as the ngx table shows it.
type mockReq struct {
	r       *http.Request
	body    []byte
	status  int
	header  http.Header
	out     strings.Builder
	exited  bool
	reqHead http.Header       // after ngx.req.set_header
	raw     map[string]string // the header names as the client wrote them, by canonical name
}

func (m *HTTPMock) serve(w http.ResponseWriter, r *http.Request) {
	m.flight.Add(1)
	defer m.flight.Done()
	m.pending.Add(1)
	defer m.pending.Add(-1)
	start := float64(time.Now().UnixNano()) / 1e9
	body, _ := io.ReadAll(r.Body)
	req := &mockReq{r: r, body: body, status: 0, header: http.Header{}, reqHead: r.Header.Clone(), raw: rawNames(r)}
	session := map[string]any{"start_time": start}
	if m.opts.Req {
		// as Kong's mock logs them: ngx.req.get_headers(nil, true)
		headers := map[string]any{}
		for k, vs := range r.Header {
			if n := req.raw[k]; n != "" {
				k = n
			}
			if len(vs) == 1 {
				headers[k] = vs[0]
			} else {
				headers[k] = vs
			}
		}
		if r.Host != "" {
			name := "Host"
			if n := req.raw[name]; n != "" {
				name = n
			}
			headers[name] = r.Host
		}
		rl := map[string]any{"method": r.Method, "uri": r.URL.RequestURI(), "headers": headers}
		if m.opts.ReqBody && len(body) > 0 {
			rl["body"] = string(body)
		}
		session["req"] = rl
	} else {
		session["req"] = map[string]any{}
	}
	rt := m.route(r.URL.Path)
	var errMsg any
	m.luaMu.Lock()
	if rt == nil {
		req.status = http.StatusNotFound
	} else {
		ngxT := m.ngxFor(req)
		for _, fn := range []*lua.LFunction{rt.access, rt.content} {
			if fn == nil || req.exited {
				continue
			}
			if err := m.run(ngxT, fn); err != nil {
				errMsg = err.Error()
				req.status = http.StatusInternalServerError
				break
			}
		}
		if req.status == 0 {
			if rt.content == nil && !req.exited && req.out.Len() == 0 {
				// nginx: no content handler, no file: 404
				req.status = http.StatusNotFound
			} else {
				req.status = http.StatusOK
			}
		}
		if rt.header != nil {
			if err := m.run(ngxT, rt.header); err != nil && errMsg == nil {
				errMsg = err.Error()
			}
		}
		if rt.log != nil {
			m.run(ngxT, rt.log)
		}
	}
	m.luaMu.Unlock()
	for k, vs := range req.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(req.status)
	io.WriteString(w, req.out.String())
	resp := map[string]any{}
	if m.opts.Resp {
		hs := map[string]any{}
		for k, vs := range w.Header() {
			hs[k] = strings.Join(vs, ", ")
		}
		resp = map[string]any{"status": req.status, "headers": hs}
		if m.opts.RespBody {
			resp["body"] = req.out.String()
		}
	}
	session["resp"] = resp
	if errMsg != nil {
		session["err"] = errMsg
	}
	session["end_time"] = float64(time.Now().UnixNano()) / 1e9
	m.logMu.Lock()
	m.logs = append(m.logs, session)
	m.logMu.Unlock()
}

// run calls a phase's function; ngx.exit is not an error.
func (m *HTTPMock) run(ngxT *lua.LTable, fn *lua.LFunction) error {
	L := m.L
	saved := L.GetGlobal("ngx")
	L.SetGlobal("ngx", ngxT)
	defer L.SetGlobal("ngx", saved)
	L.Push(fn)
	err := luavm.PCall(L, 0, 0, false)
	if err != nil {
		var ae *lua.ApiError
		if errors.As(err, &ae) {
			if u, ok := ae.Object.(*lua.LUserData); ok && u.Value == errExit {
				return nil
			}
		}
		return err
	}
	return nil
}

// ngxFor builds the ngx table one request's phases see: what the mock
// implements, falling back to the state's own ngx (ngx.null, ngx.now,
// ngx.log, the constants ...).
func (m *HTTPMock) ngxFor(req *mockReq) *lua.LTable {
	L := m.L
	t := L.NewTable()
	mt := L.NewTable()
	L.SetMetatable(t, mt)
	write := func(nl bool) lua.LGFunction {
		return func(L *lua.LState) int {
			// the whole output or none of it, as ngx_lua sizes it first
			var b strings.Builder
			for i := 1; i <= L.GetTop(); i++ {
				writeValue(L, &b, L.Get(i), 0, mockMaxBody-req.out.Len())
			}
			req.out.WriteString(b.String())
			if nl {
				req.out.WriteByte('\n')
			}
			L.Push(lua.LNumber(1))
			return 1
		}
	}
	t.RawSetString("print", L.NewFunction(write(false)))
	t.RawSetString("say", L.NewFunction(write(true)))
	t.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
		if code := L.OptInt(1, 0); code >= 200 {
			req.status = code
		}
		req.exited = true
		ud := L.NewUserData()
		ud.Value = errExit
		L.Error(ud, 0)
		return 0
	}))
	t.RawSetString("ctx", L.NewTable())
	header := L.NewTable()
	hmt := L.NewTable()
	hmt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		// ngx_lua writes '_' as '-' (lua_transform_underscores_in_response_headers)
		k := strings.ReplaceAll(L.CheckString(2), "_", "-")
		switch v := L.Get(3).(type) {
		case *lua.LTable:
			req.header.Del(k)
			v.ForEach(func(_, e lua.LValue) { req.header.Add(k, e.String()) })
		case *lua.LNilType:
			req.header.Del(k)
		default:
			req.header.Set(k, v.String())
		}
		return 0
	}))
	hmt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		v := req.header.Get(strings.ReplaceAll(L.CheckString(2), "_", "-"))
		if v == "" {
			L.Push(lua.LNil)
		} else {
			L.Push(lua.LString(v))
		}
		return 1
	}))
	L.SetMetatable(header, hmt)
	t.RawSetString("header", header)
	r := req.r
	reqT := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"get_method": func(L *lua.LState) int { L.Push(lua.LString(r.Method)); return 1 },
		"read_body":  func(L *lua.LState) int { return 0 },
		"get_body_data": func(L *lua.LState) int {
			if len(req.body) == 0 {
				L.Push(lua.LNil)
			} else {
				L.Push(lua.LString(req.body))
			}
			return 1
		},
		"get_body_file": func(L *lua.LState) int { L.Push(lua.LNil); return 1 },
		"start_time":    func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 },
		"get_headers": func(L *lua.LState) int {
			raw := lua.LVAsBool(L.Get(2))
			h := L.NewTable()
			set := func(k string, vs []string) {
				switch {
				case !raw:
					k = strings.ToLower(k)
				case req.raw[k] != "":
					k = req.raw[k]
				}
				if len(vs) == 1 {
					h.RawSetString(k, lua.LString(vs[0]))
					return
				}
				a := L.NewTable()
				for _, v := range vs {
					a.Append(lua.LString(v))
				}
				h.RawSetString(k, a)
			}
			for k, vs := range req.reqHead {
				set(k, vs)
			}
			if r.Host != "" {
				set("Host", []string{r.Host})
			}
			L.Push(h)
			return 1
		},
		"set_header": func(L *lua.LState) int {
			req.reqHead.Set(L.CheckString(1), L.Get(2).String())
			return 0
		},
		"clear_header": func(L *lua.LState) int {
			req.reqHead.Del(L.CheckString(1))
			return 0
		},
		"get_uri_args": func(L *lua.LState) int {
			L.Push(argsTable(L, r.URL.Query()))
			return 1
		},
		"get_post_args": func(L *lua.LState) int {
			q, _ := url.ParseQuery(string(req.body))
			L.Push(argsTable(L, q))
			return 1
		},
	})
	t.RawSetString("req", reqT)
	v := L.NewTable()
	for k, val := range map[string]string{"uri": r.URL.Path, "request_uri": r.URL.RequestURI(), "args": r.URL.RawQuery,
		"request_method": r.Method, "host": r.Host, "scheme": "http", "remote_addr": hostOf(r.RemoteAddr)} {
		v.RawSetString(k, lua.LString(val))
	}
	// nginx's $http_<name> (a request header, '_' for '-', as set_header
	// left it) and $arg_<name> (a query argument), nil when absent
	vmt := L.NewTable()
	vmt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := L.CheckString(2)
		switch {
		case strings.HasPrefix(k, "http_"):
			name := strings.ReplaceAll(k[len("http_"):], "_", "-")
			if vs := req.reqHead.Values(name); len(vs) > 0 {
				L.Push(lua.LString(vs[0]))
				return 1
			}
			if strings.EqualFold(name, "host") && r.Host != "" {
				L.Push(lua.LString(r.Host))
				return 1
			}
		case strings.HasPrefix(k, "arg_"):
			if vs, ok := r.URL.Query()[k[len("arg_"):]]; ok && len(vs) > 0 {
				L.Push(lua.LString(vs[0]))
				return 1
			}
		}
		L.Push(lua.LNil)
		return 1
	}))
	L.SetMetatable(v, vmt)
	t.RawSetString("var", v)
	// ngx.status reads and writes go to the request
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		key := L.Get(2)
		if key == lua.LString("status") {
			L.Push(lua.LNumber(req.status))
			return 1
		}
		if base, ok := m.base.(*lua.LTable); ok {
			L.Push(L.GetField(base, key.String()))
			return 1
		}
		L.Push(lua.LNil)
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		if L.Get(2) == lua.LString("status") {
			req.status = L.CheckInt(3)
			return 0
		}
		L.RawSet(L.CheckTable(1), L.Get(2), L.Get(3))
		return 0
	}))
	return t
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

func argsTable(L *lua.LState, q url.Values) *lua.LTable {
	t := L.NewTable()
	for k, vs := range q {
		if len(vs) == 1 {
			if vs[0] == "" {
				t.RawSetString(k, lua.LTrue)
			} else {
				t.RawSetString(k, lua.LString(vs[0]))
			}
			continue
		}
		a := L.NewTable()
		for _, v := range vs {
			a.Append(lua.LString(v))
		}
		t.RawSetString(k, a)
	}
	return t
}

// mockMaxBody bounds a mocked response body.
const mockMaxBody = 16 << 20

// writeValue appends an ngx.print argument as ngx_lua flattens it: a
// table holding itself (or nested past ngx_lua's 64 levels) raises "table
// nested too deeply", and output past limit bytes (a table shared 2^40
// ways) ngx_lua's "no memory", instead of taking the process down.
func writeValue(L *lua.LState, b *strings.Builder, v lua.LValue, depth, limit int) {
	if b.Len() > limit {
		L.RaiseError("no memory")
	}
	switch v := v.(type) {
	case *lua.LTable:
		if depth > 64 {
			L.RaiseError("table nested too deeply")
		}
		for i := 1; i <= v.Len(); i++ {
			writeValue(L, b, v.RawGetInt(i), depth+1, limit)
		}
	case *lua.LNilType:
		b.WriteString("nil")
	case lua.LBool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	default:
		b.WriteString(v.String())
	}
}
