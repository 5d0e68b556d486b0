// Package spechelpers is the Go side of luahost's spec.helpers look-alike
// (host/lua/spec/helpers.lua): an HTTP client for the proxy_client and
// admin_client objects, the mock upstream, and the hooks through which the
// test command starts and stops nodes. Starting a node needs the whole
// program, so it comes in as the Nodes interface: this package, like the
// rest of pdk, never imports host.
package spechelpers

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/pdk/lib/restyhttp"
)

// Node is what spec.helpers learns of a started node.
type Node struct {
	ProxyPort, AdminPort int
	// the TLS (http2 ssl) entries' ports, 0 when the node has none
	ProxySSLPort, AdminSSLPort int
	// ProxyH2Port is the proxy's cleartext http2 entry's (Kong's 9002,
	// proxy_client_grpc's), 0 when it has none
	ProxyH2Port int
}

// Nodes starts and stops the nodes of a spec run (the test command
// implements it).
type Nodes interface {
	// DBUtils prepares the store of strategy ("postgres" or "off") with
	// plugins enabled and returns a node whose Admin API the blueprints
	// write through until StartKong.
	DBUtils(strategy string, plugins []string) (Node, error)
	// StartKong starts a node with conf (Kong's keys) and fx, carrying
	// over what the blueprints wrote.
	StartKong(conf map[string]string, fx Fixtures) (Node, error)
	// StopKong stops the node StartKong started (no error if none).
	StopKong() error
	// MockUpstreamPort is the port of the mock upstream.
	MockUpstreamPort() int
	// MockUpstreamSSLPort is the port of the mock upstream's TLS side
	// (Kong's mock_upstream_ssl_port), 0 when it could not listen.
	MockUpstreamSSLPort() int
	// GRPCBin is the run's grpcbin look-alike's ports, cleartext and TLS,
	// started on first use.
	GRPCBin() (port, sslPort int, err error)
	// DB is the store of the current node (start_kong's, else
	// get_db_utils'), which spec.helpers' db binds as kong.db in the
	// spec's state.
	DB() (DB, error)
	// AdminAPIName is the Admin API's collection path segment of entity
	// on the current node (its schema's admin_api_name, else its name),
	// for spec.fixtures.admin_api.
	AdminAPIName(entity string) (string, error)
	// Export is the current store as a declarative configuration (YAML),
	// Kong's db_export.
	Export() (string, error)
	// Sync rebuilds the running node's router and plugins iterator now,
	// so what was written is what the next request sees (Kong's specs
	// wait for it: wait_for_all_config_update).
	Sync() error
	// Exec runs the luahost command line in-process (kong_exec), with
	// env's keys as KONG_<KEY> environment variables for its duration.
	Exec(args []string, env map[string]string) (code int, stdout, stderr string)
	// ErrorLogPath is the file the nodes' error log goes to.
	ErrorLogPath() (string, error)
	// Strategy is the one strategy the run is restricted to (luahost test
	// --strategy), "" for none.
	Strategy() string
	// SpareState is a Lua state built as a spec's, for http_mock's route
	// code; release frees it.
	SpareState() (L *lua.LState, release func(), err error)
	// ProxyTrace is the plugin handlers ("phase: plugin" lines) a node's
	// proxy ran for the last request from the client address given.
	ProxyTrace(clientAddr string) string
}

// DB is a node's store as spec.helpers' db sees it.
type DB struct {
	// Root is the node's: its DB and its DAOs' post_crud_event dispatch.
	Root *pdk.Root
	// Funcs runs the schemas' Lua functions (custom validators,
	// transformations) in a worker of the node.
	Funcs schema.FuncRunner
}

// ModuleName is the module spec/helpers.lua requires.
const ModuleName = "luahost.spechelpers"

// Install makes require "luahost.spechelpers" return the bindings in L.
// The returned function stops what the spec started and left running
// (http_mock servers, tcp_server and udp_server threads); call it when the
// spec file is done.
func Install(in *pdk.Instance, nodes Nodes) (cleanup func()) {
	L := in.L
	db := &specDB{in: in, nodes: nodes}
	client := &clients{plain: &http.Client{Transport: specTransport(nil)}, tls: map[string]*http.Client{}}
	srv := &servers{mocks: map[int]*HTTPMock{}, threads: map[int]*serverThread{}, https: map[int]*HTTPSServer{}}
	mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"request":      func(L *lua.LState) int { return request(L, client) },
		"ssl_fixtures": sslFixtures,
		"db_utils": func(L *lua.LState) int {
			strategy := L.CheckString(1)
			var plugins []string
			if t, ok := L.Get(2).(*lua.LTable); ok {
				t.ForEach(func(_, v lua.LValue) { plugins = append(plugins, v.String()) })
			}
			n, err := nodes.DBUtils(strategy, plugins)
			if err == nil {
				err = db.follow()
			}
			return pushNode(L, n, err)
		},
		"start_kong": func(L *lua.LState) int {
			conf := map[string]string{}
			if t, ok := L.Get(1).(*lua.LTable); ok {
				t.ForEach(func(k, v lua.LValue) {
					if ks, ok := k.(lua.LString); ok {
						conf[string(ks)] = v.String()
					}
				})
			}
			// start_kong(conf, dns_mock): fixtures.dns_mock, checked by
			// spec.helpers
			var fx Fixtures
			if t, ok := L.Get(2).(*lua.LTable); ok {
				m, err := DNSMock(t)
				if err != nil {
					return pushNode(L, Node{}, err)
				}
				fx.DNSMock = m
			}
			n, err := nodes.StartKong(conf, fx)
			if err == nil {
				err = db.follow()
			}
			return pushNode(L, n, err)
		},
		"stop_kong": func(L *lua.LState) int {
			// the node's proxy waits for open connections before it stops
			client.CloseIdleConnections()
			if err := nodes.StopKong(); err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			db.suspend()
			L.Push(lua.LTrue)
			return 1
		},
		// db(): kong.db over the current node's store, the same table
		// at each call
		"db": func(L *lua.LState) int {
			t, err := db.table()
			if err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			L.Push(t)
			return 1
		},
		"admin_api_name": func(L *lua.LState) int {
			name, err := nodes.AdminAPIName(L.CheckString(1))
			if err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			L.Push(lua.LString(name))
			return 1
		},
		"export": func(L *lua.LState) int {
			out, err := nodes.Export()
			if err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			L.Push(lua.LString(out))
			return 1
		},
		"sync": func(L *lua.LState) int {
			if err := nodes.Sync(); err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			L.Push(lua.LTrue)
			return 1
		},
		"exec": func(L *lua.LState) int {
			var args []string
			t := L.CheckTable(1)
			t.ForEach(func(_, v lua.LValue) { args = append(args, v.String()) })
			env := map[string]string{}
			if e, ok := L.Get(2).(*lua.LTable); ok {
				e.ForEach(func(k, v lua.LValue) { env[k.String()] = v.String() })
			}
			code, out, errs := nodes.Exec(args, env)
			L.Push(lua.LNumber(code))
			L.Push(lua.LString(out))
			L.Push(lua.LString(errs))
			return 3
		},
		// setenv(k, v) / setenv(k, nil): the process environment, which
		// os.getenv and the nodes started next read
		"setenv": func(L *lua.LState) int {
			k := L.CheckString(1)
			var err error
			if v, ok := L.Get(2).(lua.LString); ok {
				err = os.Setenv(k, string(v))
			} else {
				err = os.Unsetenv(k)
			}
			if err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			L.Push(lua.LTrue)
			return 1
		},
		"error_log_path": func(L *lua.LState) int {
			p, err := nodes.ErrorLogPath()
			if err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			L.Push(lua.LString(p))
			return 1
		},
		"proxy_trace": func(L *lua.LState) int {
			L.Push(lua.LString(nodes.ProxyTrace(L.CheckString(1))))
			return 1
		},
		"strategy": func(L *lua.LState) int {
			L.Push(lua.LString(nodes.Strategy()))
			return 1
		},
		"mock_upstream_port": func(L *lua.LState) int {
			L.Push(lua.LNumber(nodes.MockUpstreamPort()))
			return 1
		},
		"shell":         shell,
		"h2_request":    h2Request,
		"generate_keys": generateKeys,
		"mock_upstream_ssl_port": func(L *lua.LState) int {
			L.Push(lua.LNumber(nodes.MockUpstreamSSLPort()))
			return 1
		},
	})
	srv.bind(L, mod, nodes)
	bindGRPC(L, mod, nodes)
	loaded := L.GetField(L.Get(lua.RegistryIndex), "_LOADED")
	if t, ok := loaded.(*lua.LTable); ok {
		t.RawSetString(ModuleName, mod)
	}
	return srv.close
}

func pushNode(L *lua.LState, n Node, err error) int {
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	t := L.NewTable()
	t.RawSetString("proxy_port", lua.LNumber(n.ProxyPort))
	t.RawSetString("admin_port", lua.LNumber(n.AdminPort))
	if n.ProxySSLPort != 0 {
		t.RawSetString("proxy_ssl_port", lua.LNumber(n.ProxySSLPort))
	}
	if n.ProxyH2Port != 0 {
		t.RawSetString("proxy_h2_port", lua.LNumber(n.ProxyH2Port))
	}
	if n.AdminSSLPort != 0 {
		t.RawSetString("admin_ssl_port", lua.LNumber(n.AdminSSLPort))
	}
	L.Push(t)
	return 1
}

// clients are request's HTTP clients: plain, and over TLS (https URLs)
// one per SNI, verifying nothing (Kong's spec clients: ssl_verify false)
// and speaking HTTP/1.1 as resty.http does.
type clients struct {
	plain *http.Client
	mu    sync.Mutex
	tls   map[string]*http.Client
}

func (cs *clients) pick(url, sni string) *http.Client {
	if !strings.HasPrefix(url, "https:") {
		return cs.plain
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.tls[sni]
	if c == nil {
		c = &http.Client{Transport: specTransport(
			&tls.Config{InsecureSkipVerify: true, ServerName: sni}, //nolint:gosec // Kong's spec clients verify nothing
		)}
		cs.tls[sni] = c
	}
	return c
}

// CloseIdleConnections closes every client's idle connections.
func (cs *clients) CloseIdleConnections() {
	cs.plain.CloseIdleConnections()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.tls {
		c.CloseIdleConnections()
	}
}

// specTransport is the spec clients' transport: it sends what the spec
// asked for and nothing more, as lua-resty-http (no Accept-Encoding of its
// own, so no transparent gunzip either), over HTTP/1.1; each request
// brings its timeout.
func specTransport(tlsConf *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	t.TLSClientConfig = tlsConf
	// HTTP/1.1 only, as lua-resty-http, on the nodes' "http2 ssl" entries too
	t.ForceAttemptHTTP2 = false
	// and straight to the address, whatever HTTP_PROXY says
	t.Proxy = nil
	t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	return t
}

// request(method, url, headers, body [, sni [, timeout_ms [, version]]]) → status,
// headers, body, client; a request not answered within timeout_ms (when
// > 0) fails with "timeout", as lua-resty-http's
func request(L *lua.LState, cs *clients) int {
	method := L.CheckString(1)
	url := L.CheckString(2)
	client := cs.pick(url, L.OptString(5, ""))
	var body io.Reader
	bodyStr, hasBody := L.Get(4).(lua.LString)
	if hasBody {
		body = strings.NewReader(string(bodyStr))
	}
	// lua-resty-http's version: 1.0 sends an HTTP/1.0 request line
	http10 := L.OptNumber(7, 1.1) == 1.0
	ctx := context.Background()
	if ms := L.OptNumber(6, 0); ms > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(float64(ms)*float64(time.Millisecond)))
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	if t, ok := L.Get(3).(*lua.LTable); ok {
		t.ForEach(func(k, v lua.LValue) {
			name := k.String()
			if vt, ok := v.(*lua.LTable); ok {
				vt.ForEach(func(_, e lua.LValue) { restyhttp.AddHeader(req.Header, name, e.String()) })
				return
			}
			if strings.EqualFold(name, "host") {
				req.Host = v.String()
				return
			}
			setHeader(req.Header, name, v.String())
		})
	}
	if chunkedHeader(req.Header) {
		sendPreChunked(req, L.Get(4))
	}
	var local string
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { local = info.Conn.LocalAddr().String() },
	}))
	var res *http.Response
	if http10 {
		res, err = doHTTP10(req, L.OptString(5, ""), string(bodyStr))
	} else {
		res, err = client.Do(req)
	}
	b, h, ok := responseToLua(L, res, err, false)
	if !ok {
		return 2
	}
	L.Push(lua.LNumber(res.StatusCode))
	L.Push(h)
	L.Push(lua.LString(b))
	L.Push(lua.LString(local))
	return 4
}

// setHeader replaces a header, under the name the spec gave
// (restyhttp.AddHeader).
func setHeader(h http.Header, name, value string) {
	canon := textproto.CanonicalMIMEHeaderKey(name)
	for k := range h {
		if k != canon && textproto.CanonicalMIMEHeaderKey(k) == canon {
			delete(h, k)
		}
	}
	h.Del(canon)
	restyhttp.AddHeader(h, name, value)
}

// chunkedHeader says whether the spec's headers ask for a chunked body
// (Transfer-Encoding naming chunked).
func chunkedHeader(h http.Header) bool {
	for _, v := range h.Values("Transfer-Encoding") {
		for _, c := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(c), "chunked") {
				return true
			}
		}
	}
	return false
}

// sendPreChunked sends a body the spec gave already chunk-encoded, as
// lua-resty-http does with a Transfer-Encoding: chunked header: the bytes
// on the wire are the spec's (Go's client would ignore the header and add
// a Content-Length of the encoded text). The spec's chunks are read and
// Go's client chunks them again; a body that is not valid chunked encoding
// goes as one chunk, as it is.
func sendPreChunked(req *http.Request, body lua.LValue) {
	s, _ := body.(lua.LString)
	data := []byte(s)
	if dec, err := io.ReadAll(httputil.NewChunkedReader(strings.NewReader(string(s)))); err == nil {
		data = dec
	}
	req.Header.Del("Transfer-Encoding")
	req.Header.Del("Content-Length")
	req.TransferEncoding = []string{"chunked"}
	req.ContentLength = -1
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.GetBody = nil
}

// responseToLua reads the response of a client's Do (res, err) into its
// body and a table of its headers by lower-case name, a repeated header's
// values joined with ", " (join) or in an array. On failure it pushes nil
// and the error, for the caller to return 2.
func responseToLua(L *lua.LState, res *http.Response, err error, join bool) (body []byte, h *lua.LTable, ok bool) {
	if err == nil {
		defer res.Body.Close()
		body, err = io.ReadAll(res.Body)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = errors.New("timeout")
		}
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return nil, nil, false
	}
	h = L.NewTable()
	// Go's client takes Transfer-Encoding and Trailer out of the header;
	// lua-resty-http gives them as they came (HTTP/1.x)
	hdr := res.Header
	if res.ProtoMajor == 1 && (len(res.TransferEncoding) > 0 || len(res.Trailer) > 0) {
		hdr = hdr.Clone()
		if len(res.TransferEncoding) > 0 && hdr.Get("Transfer-Encoding") == "" {
			hdr.Set("Transfer-Encoding", strings.Join(res.TransferEncoding, ", "))
		}
		if len(res.Trailer) > 0 && hdr.Get("Trailer") == "" {
			tr := make([]string, 0, len(res.Trailer))
			for k := range res.Trailer {
				tr = append(tr, k)
			}
			sort.Strings(tr)
			hdr.Set("Trailer", strings.Join(tr, ", "))
		}
	}
	names := make([]string, 0, len(hdr))
	for k := range hdr {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vs := hdr[k]
		switch {
		case join:
			h.RawSetString(strings.ToLower(k), lua.LString(strings.Join(vs, ", ")))
		case len(vs) == 1:
			h.RawSetString(strings.ToLower(k), lua.LString(vs[0]))
		default:
			arr := L.NewTable()
			for _, v := range vs {
				arr.Append(lua.LString(v))
			}
			h.RawSetString(strings.ToLower(k), arr)
		}
	}
	return body, h, true
}

// specDB is spec.helpers' db: a pdk.SpecDB in the spec's state, bound to
// the current node's store, made on first use.
type specDB struct {
	in    *pdk.Instance
	nodes Nodes
	db    *pdk.SpecDB
	t     *lua.LTable
}

// table binds the db to the current node and returns its Lua table.
func (d *specDB) table() (*lua.LTable, error) {
	if d.db == nil {
		d.db = pdk.NewSpecDB(d.in)
	}
	if err := d.bind(); err != nil {
		if d.t != nil {
			// no node now (stop_kong): the last one's store
			return d.t, nil
		}
		return nil, err
	}
	return d.t, nil
}

// follow rebinds a db already handed out to the node just started.
func (d *specDB) follow() error {
	if d.db == nil {
		return nil
	}
	return d.bind()
}

// suspend leaves the db bound to the stopped node until its next use,
// which binds it to the store of the node current then (Nodes.DB): Kong's
// get_db_utils' db outlives the nodes.
func (d *specDB) suspend() {
	if d.db != nil && d.t != nil {
		d.db.Suspend(func() error {
			// no node to bind to (the embedded store went with its node,
			// which keeps it readable): the last node's store stays
			_ = d.bind()
			return nil
		})
	}
}

func (d *specDB) bind() error {
	n, err := d.nodes.DB()
	if err != nil {
		return err
	}
	if n.Root == nil || n.Root.DB == nil {
		return errors.New("the node has no database")
	}
	d.t = d.db.Bind(n.Root, n.Funcs, d.nodes.Sync)
	return nil
}
