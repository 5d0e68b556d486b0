package request

import (
	"testing"

	"github.com/luahost/luahost/proxy"
)

func TestKongRequestGetters(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		local r = kong.request
		record("scheme", r.get_scheme())
		record("host", r.get_host())
		record("port", r.get_port())
		record("method", r.get_method())
		record("path", r.get_path())
		record("raw_path", r.get_raw_path())
		record("pwq", r.get_path_with_query())
		record("raw_query", r.get_raw_query())
		record("a", r.get_query_arg("a"))
		record("b", r.get_query_arg("b"))
		record("flag", r.get_query_arg("flag"))
		record("none", r.get_query_arg("none"))
		record("query", r.get_query())
		record("hdr", r.get_header("x-multi"))
		record("hdr_us", r.get_header("X_Custom"))
		record("hdr_none", r.get_header("nope"))
		local h = r.get_headers()
		record("headers_multi", h["x-multi"])
		record("headers_norm", h.X_Custom)
		record("http_version", r.get_http_version())
		record("fwd_scheme", r.get_forwarded_scheme())
		record("fwd_host", r.get_forwarded_host())
		record("fwd_port", r.get_forwarded_port())
		record("fwd_path", r.get_forwarded_path())
		record("start", type(r.get_start_time()))
	`)
	res := e.get("/foo//bar/%7Ebaz?a=1&b=x%20y&a=2&flag", "X-Multi", "one", "X-Multi", "two",
		"X-Custom", "c", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.test")
	e.noErrors()
	if res.StatusCode() != 200 {
		t.Fatalf("status %d %s", res.StatusCode(), res.Body())
	}
	e.want("scheme", "http", "host", "example.com", "port", e.srvPort, "method", "GET",
		"path", "/foo/bar/~baz", "raw_path", "/foo//bar/%7Ebaz", "pwq", "/foo//bar/%7Ebaz?a=1&b=x%20y&a=2&flag",
		"raw_query", "a=1&b=x%20y&a=2&flag", "a", "1", "b", "x y", "flag", "true", "none", "nil",
		"query", "{\n  a = { \"1\", \"2\" },\n  b = \"x y\",\n  flag = true\n}",
		"hdr", "one", "hdr_us", "c", "hdr_none", "nil",
		"headers_multi", `{ "one", "two" }`, "headers_norm", "c", "http_version", "1.1",
		// the client is not trusted: X-Forwarded-* are ignored
		"fwd_scheme", "http", "fwd_host", "example.com", "fwd_port", e.srvPort, "fwd_path", "/foo/bar/~baz",
		"start", "number")
}

// $host: the Host header lower-cased without its port; "kong" (the server
// name) without one.
func TestKongRequestHost(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `record("host", kong.request.get_host()) record("var", ngx.var.host)`)
	e.serve("GET / HTTP/1.1\r\nHost: Example.COM:8000\r\n\r\n")
	e.noErrors()
	e.want("host", "example.com", "var", "example.com")
	e.serve("GET / HTTP/1.0\r\n\r\n")
	e.noErrors()
	e.want("host", "kong")
}

func TestKongRequestForwardedTrusted(t *testing.T) {
	trusted, _ := proxy.ParseTrustedIPs([]string{"127.0.0.0/8"})
	e := newEnv(t, proxy.Config{TrustedIPs: trusted})
	e.on(PhaseAccess, `
		local r = kong.request
		record("fwd_scheme", r.get_forwarded_scheme())
		record("fwd_host", r.get_forwarded_host())
		record("fwd_port", r.get_forwarded_port())
		record("fwd_path", r.get_forwarded_path())
		record("fwd_prefix", r.get_forwarded_prefix())
	`)
	e.get("/x", "X-Forwarded-Proto", "HTTPS", "X-Forwarded-Host", "user@Api.Example.COM:8443",
		"X-Forwarded-Path", "/orig", "X-Forwarded-Prefix", "/pre")
	e.noErrors()
	e.want("fwd_scheme", "https", "fwd_host", "api.example.com", "fwd_port", "8443", "fwd_path", "/orig",
		"fwd_prefix", "/pre")
}

func TestKongRequestArgErrors(t *testing.T) {
	cases := []struct{ call, msg string }{
		{"kong.request.get_header(1)", "header name must be a string"},
		{"kong.request.get_query_arg({})", "query argument name must be a string"},
		{"kong.request.get_query('x')", "max_args must be a number"},
		{"kong.request.get_query(0)", "max_args must be >= 1"},
		{"kong.request.get_query(1001)", "max_args must be <= 1000"},
		{"kong.request.get_headers('x')", "max_headers must be a number"},
		{"kong.request.get_headers(0)", "max_headers must be >= 1"},
		{"kong.request.get_headers(1001)", "max_headers must be <= 1000"},
	}
	e := newEnv(t, proxy.Config{})
	for _, c := range cases {
		t.Run(c.call, func(t *testing.T) {
			e.clear()
			e.on(PhaseAccess, "\n\n"+c.call)
			res := e.get("/")
			if got, want := e.err(PhaseAccess), "snippet:3: "+c.msg; got != want {
				t.Errorf("error %q, want %q", got, want)
			}
			if res.StatusCode() != 500 {
				t.Errorf("status %d", res.StatusCode())
			}
		})
	}
}

// Called by pcall directly, the error has no position, as error(msg, 2)
// from a function a C function called (Kong's 08-set_query.t test 3).
func TestErrorWithoutLuaCaller(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		record("direct", select(2, pcall(kong.request.get_header, 1)))
		record("set_query", select(2, pcall(kong.service.request.set_query, { aaa = "foo", bbb = function() end })))
		record("wrapped", select(2, pcall(function() kong.request.get_header(1) end)))
	`)
	e.get("/")
	e.noErrors()
	e.want("direct", "header name must be a string", "set_query", "attempt to use function as query arg value",
		"wrapped", "snippet:4: header name must be a string")
}

func TestKongRequestTruncated(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		local q, err = kong.request.get_query(2)
		record("q", q) record("qerr", err)
		local h, herr = kong.request.get_headers(1)
		record("herr", herr)
	`)
	e.get("/?a=1&b=2&c=3", "X-A", "1")
	e.noErrors()
	e.want("q", "{\n  a = \"1\",\n  b = \"2\"\n}", "qerr", "truncated", "herr", "truncated")
}

func TestKongRequestBody(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		local r = kong.request
		record("raw", r.get_raw_body())
		local body, err, ct = r.get_body()
		record("body", body) record("err", err) record("ct", ct)
		local b2, err2 = r.get_body("application/x-www-form-urlencoded")
		record("err2", err2)
		local b3, err3, ct3 = r.get_body("text/plain")
		record("err3", err3) record("ct3", ct3)
	`)
	body := `{"a":[1,2],"b":{"c":true}}`
	e.serve("POST /j HTTP/1.1\r\nHost: h\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " +
		itoa(len(body)) + "\r\n\r\n" + body)
	e.noErrors()
	e.want("raw", body, "body", "{\n  a = { 1, 2 },\n  b = {\n    c = true\n  }\n}", "err", "nil",
		"ct", "application/json", "err2", "nil", "err3", "unsupported content type 'text/plain'", "ct3", "text/plain")

	e1 := newEnv(t, proxy.Config{})
	e1.on(PhaseAccess, `
		local body, err, ct = kong.request.get_body()
		record("body", body) record("err", err) record("ct", ct)
	`)
	e1.serve("POST /j HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n[1,")
	e1.noErrors()
	e1.want("body", "nil", "err", "invalid json body", "ct", "application/json")

	e2 := newEnv(t, proxy.Config{})
	e2.on(PhaseAccess, `
		local body, err, ct = kong.request.get_body()
		record("form", body) record("ct", ct)
		local none, nerr = kong.request.get_body()
	`)
	form := "a=1&b=two+words&a=3"
	e2.serve("POST /f HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
		itoa(len(form)) + "\r\n\r\n" + form)
	e2.noErrors()
	e2.want("form", "{\n  a = { \"1\", \"3\" },\n  b = \"two words\"\n}", "ct", "application/x-www-form-urlencoded")

	e3 := newEnv(t, proxy.Config{})
	e3.on(PhaseAccess, `
		local body, err = kong.request.get_body()
		record("err", err)
		local mp, merr, mct = kong.request.get_body("multipart/form-data; boundary=XX")
		record("mp", mp) record("mct", mct)
	`)
	mp := "--XX\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv1\r\n--XX\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv2\r\n--XX--\r\n"
	e3.serve("POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: " + itoa(len(mp)) + "\r\n\r\n" + mp)
	e3.noErrors()
	e3.want("err", "missing content type", "mp", "{\n  k = { \"v1\", \"v2\" }\n}", "mct", "multipart/form-data")
}

func TestKongRequestURICaptures(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseRewrite, `record("rw", kong.request.get_uri_captures())`)
	e.on(PhaseAccess, `
		local c = kong.request.get_uri_captures()
		record("u0", c.unnamed[0]) record("u1", c.unnamed[1]) record("u2", c.unnamed[2])
		record("id", c.named.id)
		record("arr", getmetatable(c.unnamed) ~= nil)
	`)
	e.get("/cap/42/abc")
	e.noErrors()
	e.want("rw", "{\n  named = {},\n  unnamed = {}\n}", "u0", "/cap/42/abc", "u1", "42", "u2", "abc", "id", "42", "arr", "true")
}

func TestPhaseChecks(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseLog, `
		local function try(name, f, ...)
			local ok, err = pcall(f, ...)
			record(name, err)
		end
		try("raw_body", function() return kong.request.get_raw_body() end)
		try("set_header", function() return kong.response.set_header("a", "b") end)
		try("exit", function() return kong.response.exit(200) end)
		try("sreq", function() return kong.service.request.set_header("a", "b") end)
		try("auth", function() return kong.client.authenticate({}) end)
	`)
	e.get("/")
	e.noErrors()
	e.want(
		"raw_body", "snippet:6: function cannot be called in log phase (only in: rewrite, access, response, error, admin_api)",
		"set_header", "snippet:7: function cannot be called in log phase (only in: rewrite, access, balancer, response, header_filter, error, admin_api)",
		"exit", "snippet:8: function cannot be called in log phase (only in: rewrite, access, balancer, response, header_filter, error, admin_api)",
		"sreq", "snippet:9: function cannot be called in log phase (only in: rewrite, access, balancer)",
		"auth", "snippet:10: function cannot be called in log phase (only in: access)")
}

func TestPhaseChecksOutsideRequest(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	L := e.in.L
	e.in.Phase = "timer"
	if err := L.DoString(`local ok, err = pcall(function() return kong.request.get_path() end) record("timer", err)
		local ok2, err2 = pcall(function() return kong.client.get_ip() end) record("timer_not", err2)`); err != nil {
		t.Fatal(err)
	}
	e.in.Phase = "init_worker"
	if err := L.DoString(`local ok, err = pcall(function() return kong.client.get_ip() end) record("iw", err)`); err != nil {
		t.Fatal(err)
	}
	e.want("timer", "<string>:1: no phase in ngx.ctx.KONG_PHASE, (need one of rewrite, access, balancer, response, cluster_listener, header_filter, body_filter, log, error, admin_api)",
		"timer_not", "<string>:2: no phase in ngx.ctx.KONG_PHASE",
		"iw", "<string>:1: function cannot be called in init_worker phase (can be called in any phases except: init_worker)")
}

// Kong's t/01-pdk/04-request/13-get_body.t, tests 6 to 14.
func TestKongRequestGetBodyJSONShapes(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"{", "nil invalid json body"}, {"null", "nil invalid json body"}, {`"s"`, "nil invalid json body"},
		{"1", "nil invalid json body"}, {"1.5", "nil invalid json body"}, {"true", "nil invalid json body"},
		{"false", "nil invalid json body"}, {"{}", "table nil false"}, {"[]", "table nil true"},
	} {
		e := newEnv(t, proxy.Config{})
		e.on(PhaseAccess, `
			local b, err = kong.request.get_body()
			if type(b) == "table" then
				record("r", "table " .. tostring(err) .. " " .. tostring(getmetatable(b) ~= nil))
			else
				record("r", tostring(b) .. " " .. tostring(err))
			end
		`)
		e.serve("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: Application/JSON\r\nContent-Length: " + itoa(len(c.body)) +
			"\r\n\r\n" + c.body)
		e.noErrors()
		if got := e.rec("r"); got != c.want {
			t.Errorf("%s: %q, want %q", c.body, got, c.want)
		}
	}
}
