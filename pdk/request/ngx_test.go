package request

import (
	"strings"
	"testing"

	"github.com/luahost/luahost/proxy"
)

func TestNgxVar(t *testing.T) {
	trusted, _ := proxy.ParseTrustedIPs([]string{"127.0.0.0/8"})
	e := newEnv(t, proxy.Config{TrustedIPs: trusted})
	e.on(PhaseAccess, `
		local v = ngx.var
		for _, k in ipairs({ "uri", "request_uri", "host", "scheme", "remote_addr", "realip_remote_addr",
			"remote_port", "request_method", "args", "is_args", "query_string", "upstream_uri",
			"upstream_host", "upstream_scheme", "http_x_multi", "http_user_agent", "arg_a", "arg_none",
			"cookie_sid", "request_id", "server_protocol", "request", "nonexistent", "http2" }) do
			record(k, v[k])
		end
		record("rid_is_header", v.request_id == kong.request.get_header("x-kong-request-id") or v.request_id)
		record("request_time", type(tonumber(v.request_time)))
		v.upstream_uri = "/changed"
		v.upstream_host = "vhost"
		v.args = "z=9"
		record("after_args", v.arg_z)
		record("ro", select(2, pcall(function() v.request_uri = "/x" end)))
		record("nf", select(2, pcall(function() v.foo = "/x" end)))
	`)
	e.on(PhaseLog, `record("log_upstream_uri", ngx.var.upstream_uri) record("upstream_status", ngx.var.upstream_status)
		record("status", ngx.var.status)`)
	res := e.get("/a%20b//c?a=1&a=2", "X-Multi", "1", "X-Multi", "2", "User-Agent", "t/1", "Cookie", "sid=abc; x=y",
		"X-Real-IP", "9.9.9.9")
	e.noErrors()
	if res.StatusCode() != 200 {
		t.Fatal(res.StatusCode())
	}
	e.want("uri", "/a b/c", "request_uri", "/a%20b//c?a=1&a=2", "host", "example.com", "scheme", "http",
		"remote_addr", "9.9.9.9", "realip_remote_addr", "127.0.0.1", "remote_port", "", "request_method", "GET",
		"args", "a=1&a=2", "is_args", "?", "query_string", "a=1&a=2", "upstream_uri", "/a%20b/c", "upstream_host", "127.0.0.1:"+itoa(e.up.port),
		"upstream_scheme", "http", "http_x_multi", "1, 2", "http_user_agent", "t/1", "arg_a", "1", "arg_none", "nil",
		"cookie_sid", "abc", "server_protocol", "HTTP/1.1", "request", "GET /a%20b//c?a=1&a=2 HTTP/1.1",
		"nonexistent", "nil", "http2", "", "request_time", "number", "after_args", "9",
		"ro", `snippet:15: variable "request_uri" not changeable`,
		"nf", `snippet:16: variable "foo" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $foo '';" in the config file to define it first`,
		"log_upstream_uri", "/changed?z=9", "upstream_status", "200", "status", "200")
	if len(e.rec("request_id")) != 32 {
		t.Errorf("request_id %q", e.rec("request_id"))
	}
	got, _ := e.up.last(t)
	if got.RequestURI != "/changed?z=9" || got.Host != "vhost" {
		t.Errorf("upstream %q %q", got.RequestURI, got.Host)
	}
}

// TestKongProxyMode: $kong_proxy_mode is "http" on a Route with Kong's
// default buffering, and "unbuffered" from access on for one with
// request_buffering or response_buffering off (Kong's access.before then
// goes on in an @unbuffered* location, which sets it).
func TestKongProxyMode(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	for _, p := range []Phase{PhaseRewrite, PhaseAccess, PhaseHeaderFilter, PhaseLog} {
		e.on(p, `record("`+phaseName(p)+`", ngx.var.kong_proxy_mode)`)
	}
	for _, tc := range []struct{ path, later string }{{"/x", "http"}, {"/cap/1/x", "unbuffered"}} {
		e.clear()
		if res := e.get(tc.path); res.StatusCode() != 200 {
			t.Fatalf("%s: %d", tc.path, res.StatusCode())
		}
		e.noErrors()
		for _, p := range []Phase{PhaseRewrite, PhaseAccess, PhaseHeaderFilter, PhaseLog} {
			want := tc.later
			if p == PhaseRewrite {
				want = "http"
			}
			if got := e.rec(phaseName(p)); got != want {
				t.Errorf("%s %s: %q, want %q", tc.path, phaseName(p), got, want)
			}
		}
	}
}

func TestNgxReq(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseRewrite, `
		local r = ngx.req
		record("method", r.get_method())
		record("headers", r.get_headers()["x-a"])
		record("raw_headers", r.get_headers(100, true)["X-A"])
		record("args", r.get_uri_args().q)
		r.read_body()
		record("body", r.get_body_data())
		record("post", r.get_post_args().f)
		record("version", r.http_version())
		record("start", type(r.start_time()))
		record("raw", r.raw_header(true):find("X-A: a", 1, true) ~= nil)
		r.set_header("X-New", "n")
		r.set_header("X-A", nil)
		r.clear_header("X-B")
		r.set_method(ngx.HTTP_PUT)
		r.set_uri_args({ k = "v" })
		r.set_body_data("f=changed")
		r.set_uri("/rewritten")
		record("uri", ngx.var.uri)
		record("bad_method", select(2, pcall(r.set_method, 3)))
		record("capture", select(2, pcall(function() return ngx.location.capture("/x") end)))
	`)
	e.serve("POST /p?q=1 HTTP/1.1\r\nHost: h\r\nX-A: a\r\nX-B: b\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\nf=1")
	e.noErrors()
	e.want("method", "POST", "headers", "a", "raw_headers", "a", "args", "1", "body", "f=1", "post", "1",
		"version", "1.1", "start", "number", "raw", "true", "uri", "/rewritten",
		"bad_method", "unsupported HTTP method: 3",
		"capture", "snippet:22: ngx.location.capture is not supported by luahost")
	got, body := e.up.last(t)
	if got.Method != "PUT" || got.RequestURI != "/p?k=v" || body != "f=changed" || got.Header.Get("X-New") != "n" ||
		got.Header.Get("X-A") != "" || got.Header.Get("X-B") != "" {
		t.Errorf("upstream %s %s %q %v", got.Method, got.RequestURI, body, got.Header)
	}
}

func TestNgxOutputAndExit(t *testing.T) {
	// ngx.say then ngx.exit: the printed body is the answer
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		record("unset", ngx.status)
		ngx.status = 403
		ngx.header["Content-Type"] = "application/json"
		ngx.header.x_custom = { "a", "b" }
		record("ct", ngx.header.content_type)
		record("multi", ngx.header["X-Custom"])
		record("sent_before", ngx.headers_sent)
		ngx.say('{"denied":', true, "}")
		record("sent_after", ngx.headers_sent)
		pcall(ngx.exit, 403)
		record("after", "ran")
	`)
	e.on(PhaseHeaderFilter, `record("hf_status", ngx.status)`)
	n := e.up.count()
	res := e.get("/o")
	e.noErrors()
	if res.StatusCode() != 403 || string(res.Body()) != "{\"denied\":true}\n" || string(res.Header.ContentType()) != "application/json" {
		t.Fatalf("%d %q %q", res.StatusCode(), res.Body(), res.Header.ContentType())
	}
	if e.up.count() != n {
		t.Error("upstream called")
	}
	e.want("unset", "0", "ct", "application/json", "multi", `{ "a", "b" }`, "sent_before", "false", "sent_after", "true",
		"after", "<missing>", "hf_status", "403")

	// ngx.exit(ngx.OK) ends the handler only
	e2 := newEnv(t, proxy.Config{})
	e2.on(PhaseAccess, `record("before", 1) ngx.exit(ngx.OK) record("after", 1)`)
	res = e2.get("/ok")
	e2.noErrors()
	if res.StatusCode() != 200 || !strings.HasPrefix(string(res.Body()), "GET /ok") {
		t.Fatalf("%d %q", res.StatusCode(), res.Body())
	}
	e2.want("before", "1", "after", "<missing>")

	// ngx.exit(404): Kong's error page; ngx.exit(403): nginx's
	e3 := newEnv(t, proxy.Config{})
	e3.on(PhaseRewrite, `ngx.exit(tonumber(kong.request.get_query_arg("s")))`)
	res = e3.get("/e?s=404")
	if res.StatusCode() != 404 || !strings.HasPrefix(string(res.Body()), "Not found\nrequest_id: ") {
		t.Errorf("404: %d %q", res.StatusCode(), res.Body())
	}
	res = e3.get("/e?s=403")
	if res.StatusCode() != 403 || !strings.Contains(string(res.Body()), "<title>403 Forbidden</title>") {
		t.Errorf("403: %d %q", res.StatusCode(), res.Body())
	}
	e3.noErrors()

	e4 := newEnv(t, proxy.Config{})
	e4.on(PhaseAccess, `ngx.redirect("https://example.com/", ngx.HTTP_MOVED_PERMANENTLY)`)
	res = e4.get("/r")
	e4.noErrors()
	if res.StatusCode() != 301 || string(res.Header.Peek("Location")) != "https://example.com/" {
		t.Errorf("redirect %d %q", res.StatusCode(), res.Header.Peek("Location"))
	}

	e5 := newEnv(t, proxy.Config{})
	e5.on(PhaseLog, `record("say", select(2, pcall(function() ngx.say("x") end)))`)
	e5.on(PhaseBodyFilter, `record("exit", select(2, pcall(function() ngx.exit(200) end)))`)
	e5.get("/l")
	e5.noErrors()
	e5.want("say", "snippet:1: API disabled in the context of log_by_lua*",
		"exit", "snippet:1: API disabled in the context of body_filter_by_lua*")
}

func TestNgxArgAndPhase(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseRewrite, `record("p_rewrite", ngx.get_phase())`)
	e.on(PhaseAccess, `record("p_access", ngx.get_phase()) record("arg_access", ngx.arg[1])`)
	e.on(PhaseHeaderFilter, `record("p_hf", ngx.get_phase()) ngx.header["Content-Length"] = nil`)
	e.on(PhaseBodyFilter, `
		record("p_bf", ngx.get_phase())
		record("chunk", ngx.arg[1]) record("eof", ngx.arg[2])
		ngx.arg[1] = { "<", ngx.arg[1], ">" }
	`)
	e.on(PhaseLog, `record("p_log", ngx.get_phase()) record("kp", ngx.ctx.KONG_PHASE)`)
	res := e.get("/b")
	e.noErrors()
	e.want("p_rewrite", "rewrite", "p_access", "access", "arg_access", "nil", "p_hf", "header_filter",
		"p_bf", "body_filter", "chunk", "GET /b ", "eof", "true", "p_log", "log", "kp", "8192")
	if string(res.Body()) != "<GET /b >" {
		t.Errorf("%q", res.Body())
	}
}
