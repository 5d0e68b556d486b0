package request

import (
	"github.com/luahost/luahost/luavm"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/proxy"
)

func TestServiceRequestSetHeadersAndScheme(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		kong.service.request.set_headers({ ["X-One"] = "1", ["X-Many"] = { "a", "b" }, ["X-Num"] = 5, Host = "h.test" })
		ngx.var.upstream_scheme = "http"
		record("scheme", ngx.var.upstream_scheme)
		kong.service.set_target_retry_callback(function() end)
		record("cb", type(ngx.ctx.balancer_data.retry_callback))
	`)
	e.get("/sh")
	e.noErrors()
	got, _ := e.up.last(t)
	if got.Header.Get("X-One") != "1" || strings.Join(got.Header.Values("X-Many"), ",") != "a,b" ||
		got.Header.Get("X-Num") != "5" || got.Host != "h.test" {
		t.Errorf("%q %v", got.Host, got.Header)
	}
	e.want("scheme", "http", "cb", "function")
}

func TestExitInResponsePhase(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `kong.service.request.enable_buffering()`)
	e.on(PhaseResponse, `
		local body = kong.service.response.get_raw_body()
		return kong.response.exit(202, "was: " .. body)
	`)
	e.on(PhaseLog, `record("source", kong.response.get_source())`)
	res := e.get("/rp")
	e.noErrors()
	if res.StatusCode() != 202 || string(res.Body()) != "was: GET /rp " {
		t.Errorf("%d %q", res.StatusCode(), res.Body())
	}
	e.want("source", "exit")
}

func TestNgxRespAndEOF(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseHeaderFilter, `
		local resp = require "ngx.resp"
		resp.add_header("X-Added", "1")
		ngx.resp.add_header("X-Added", "2")
		local h, err = ngx.resp.get_headers()
		record("added", h["x-added"])
		record("raw", ngx.resp.get_headers(0, true)["X-Upstream"])
		record("trunc", select(2, ngx.resp.get_headers(1)))
		ngx.exit(ngx.OK)
		record("after", "x")
	`)
	e.on(PhaseBodyFilter, `record("bf", "ran")`)
	res := e.get("/r")
	e.noErrors()
	e.want("added", `{ "1", "2" }`, "raw", "yes", "trunc", "truncated", "after", "<missing>", "bf", "ran")
	if len(res.Header.PeekAll("X-Added")) != 2 {
		t.Errorf("%s", res.Header.String())
	}

	e2 := newEnv(t, proxy.Config{})
	e2.on(PhaseAccess, `
		ngx.print("a", 1, { "b", { "c" } })
		record("flush", ngx.flush(true))
		ngx.eof()
		record("sent", ngx.headers_sent)
	`)
	e2.on(PhaseHeaderFilter, `record("exited", ngx.ctx.KONG_EXITED)`)
	n := e2.up.count()
	res = e2.get("/p")
	e2.noErrors()
	if string(res.Body()) != "a1bc" || e2.up.count() != n {
		t.Errorf("%q (upstream %d -> %d)", res.Body(), n, e2.up.count())
	}
	e2.want("flush", "1", "sent", "true", "exited", "true")
}

func TestNgxReqBodyHelpers(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		record("file", ngx.req.get_body_file())
		record("data", ngx.req.get_body_data())
		ngx.req.init_body()
		ngx.req.append_body("x=")
		ngx.req.append_body("1")
		ngx.req.finish_body()
		record("internal", ngx.req.is_internal())
		record("socket", select(2, pcall(function() return ngx.req.socket() end)))
	`)
	e.get("/b")
	e.noErrors()
	e.want("file", "nil", "data", "nil", "internal", "false", "socket", "snippet:9: ngx.req.socket is not supported by luahost")
	if _, body := e.up.last(t); body != "x=1" {
		t.Errorf("%q", body)
	}
}

// Outside a request (a timer), ngx.var and ngx.req raise as OpenResty's
// do without a request.
func TestNgxOutsideRequest(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.in.Phase = "timer"
	if err := e.in.L.DoString(`
		record("var", select(2, pcall(function() return ngx.var.uri end)))
		record("req", select(2, pcall(function() return ngx.req.get_headers() end)))
		record("status", ngx.status)
		record("ip", kong.ip.is_trusted("1.1.1.1"))
	`); err != nil {
		t.Fatal(err)
	}
	e.want("var", "<string>:2: no request found", "req", "<string>:3: no request found", "status", "0", "ip", "false")
}

// In the Admin API's content phase (no proxied request), kong.response.exit
// and error leave their response for the Admin API server.
func TestAdminResponse(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	L := e.in.L
	e.in.Phase = "content"
	fn, err := L.LoadString(`return kong.response.exit(201, { created = true }, { ["X-A"] = "a" })`)
	if err != nil {
		t.Fatal(err)
	}
	err = luavm.CallProtected(L, fn, 0, false)
	resp, ok := e.st.AdminResponse(err)
	if !ok || !IsExit(err) {
		t.Fatalf("not an admin exit: %v", err)
	}
	if resp.StatusCode() != 201 || string(resp.Body()) != `{"created":true}` || string(resp.Header.Peek("X-A")) != "a" ||
		string(resp.Header.ContentType()) != "application/json; charset=utf-8" {
		t.Errorf("%d %q %s", resp.StatusCode(), resp.Body(), resp.Header.String())
	}
	fn, _ = L.LoadString(`return kong.response.error(404)`)
	err = luavm.CallProtected(L, fn, 0, false)
	resp, ok = e.st.AdminResponse(err)
	if !ok || resp.StatusCode() != 404 || !strings.HasPrefix(string(resp.Body()), "{\n  \"message\":\"Not found\"") {
		t.Errorf("error: %v %v", ok, resp)
	}
	if _, ok := e.st.AdminResponse(nil); ok {
		t.Error("nil error taken for an exit")
	}
}

// After access, the request PDK reads the client's request as plugins left
// it, not the upstream request the proxy built from it.
func TestRequestAfterAccess(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `kong.service.request.set_header("X-Plugin", "p")`)
	e.on(PhaseLog, `
		local h = kong.request.get_headers()
		record("xff", h["x-forwarded-for"]) record("via", h.via) record("host", h.host)
		record("plugin", h["x-plugin"]) record("version", kong.request.get_http_version())
		record("ngx_host", ngx.req.get_headers()["host"]) record("var_host", ngx.var.http_host)
		record("ser_host", kong.log.serialize().request.headers.host)
	`)
	e.serve("GET /a HTTP/1.0\r\nHost: client.test\r\n\r\n")
	e.noErrors()
	e.want("xff", "nil", "via", "nil", "host", "client.test", "plugin", "p", "version", "1",
		"ngx_host", "client.test", "var_host", "client.test", "ser_host", "client.test")
	got, _ := e.up.last(t)
	if got.Header.Get("X-Forwarded-For") == "" || got.Header.Get("X-Plugin") != "p" {
		t.Errorf("upstream %v", got.Header)
	}
}

// kong.conf's lua_max_* set the default limits of the header and argument
// readers.
func TestConfLimits(t *testing.T) {
	e := newEnv(t, proxy.Config{}, "lua_max_req_headers", "2", "lua_max_uri_args", "1", "lua_max_resp_headers", "1")
	e.on(PhaseAccess, `
		record("h", select(2, kong.request.get_headers()))
		record("ngx_h", select(2, ngx.req.get_headers()))
		record("q", select(2, kong.request.get_query()))
		record("b", kong.request.get_query_arg("b"))
	`)
	e.on(PhaseHeaderFilter, `record("rh", select(2, kong.response.get_headers()))`)
	e.get("/?a=1&b=2", "X-A", "1", "X-B", "2")
	e.noErrors()
	e.want("h", "truncated", "ngx_h", "truncated", "q", "truncated", "b", "nil", "rh", "truncated")
}

// phaseValues (SetPhase's table) answers what the maps do, for every phase
// and for a value that is not one.
func TestPhaseValuesMatchMaps(t *testing.T) {
	for p := Phase(1); p != 0 && p <= PhaseClusterListener<<1; p <<= 1 {
		for _, q := range []Phase{p, p | PhaseAccess} {
			name, v := phaseValues(q)
			if name != ngxPhase[q] || v != lua.LNumber(kongPhaseValue[q]) {
				t.Errorf("phase %#x: %q %v, want %q %v", q, name, v, ngxPhase[q], kongPhaseValue[q])
			}
		}
	}
}

// A truncated reader logs Kong's notice (its globalpatches.lua wraps
// ngx.req.get_headers, ngx.resp.get_headers, ngx.req.get_uri_args and
// ngx.req.get_post_args, which the PDK's readers call).
func TestTruncatedNotices(t *testing.T) {
	e := newEnv(t, proxy.Config{}, "lua_max_req_headers", "2", "lua_max_uri_args", "1", "lua_max_resp_headers", "1",
		"lua_max_post_args", "1")
	e.on(PhaseAccess, `
		kong.request.get_headers()
		kong.request.get_query()
		ngx.req.read_body()
		ngx.req.get_post_args()
	`)
	e.on(PhaseHeaderFilter, `ngx.resp.get_headers()`)
	e.serve("POST /?a=1&b=2 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		"Content-Length: 7\r\n\r\nc=1&d=2")
	e.noErrors()
	e.logs.mu.Lock()
	logged := strings.Join(e.logs.lines, "\n")
	e.logs.mu.Unlock()
	for _, want := range []string{"[kong] globalpatches.lua:148 [test] request headers truncated",
		"[kong] globalpatches.lua:186 [test] uri args truncated", "[kong] globalpatches.lua:205 [test] post args truncated",
		"[kong] globalpatches.lua:167 [test] response headers truncated"} {
		if !strings.Contains(logged, want) {
			t.Errorf("no %q in:\n%s", want, logged)
		}
	}
}

// ngx.resp.get_headers (so kong.response.get_headers) has ngx_lua's
// connection entry (keep-alive, close, upgrade on a 101) besides the
// headers set, and counts it, Content-Type and Content-Length first
// against max: the others are cut to max minus those.
func TestRespGetHeadersConnection(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `return kong.response.exit(200, "", { a1 = "v1", a2 = "v2", a3 = "v3" })`)
	e.on(PhaseHeaderFilter, `
		local h = kong.response.get_headers()
		record("conn", h.connection) record("cl", h["content-length"]) record("a3", h.a3)
		local n = 0
		for k in pairs(ngx.resp.get_headers(4)) do n = n + 1 end
		record("n4", n) record("t4", select(2, ngx.resp.get_headers(4)))
		record("t5", select(2, ngx.resp.get_headers(5)))
	`)
	e.serve("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	e.noErrors()
	e.want("conn", "keep-alive", "cl", "0", "a3", "v3", "n4", "4", "t4", "truncated", "t5", "nil")
	e.clear()
	e.on(PhaseAccess, `return kong.response.exit(200)`)
	e.on(PhaseHeaderFilter, `record("conn", kong.response.get_headers().connection)`)
	e.serve("GET / HTTP/1.0\r\nHost: x\r\n\r\n")
	e.noErrors()
	e.want("conn", "close")
}
