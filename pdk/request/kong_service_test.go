package request

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/luahost/luahost/proxy"
)

// End to end over sockets: what kong.service.request sets is what the
// upstream receives; kong.response.exit answers the client.
func TestServiceRequestEndToEnd(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		if kong.request.get_header("x-deny") then
			return kong.response.exit(401, { message = "Unauthorized" })
		end
		kong.service.request.set_header("X-Set", "v")
		kong.service.request.set_header("Host", "upstream.test")
		kong.service.request.clear_header("X-Drop")
		kong.service.request.add_header("X-Add", "1")
		kong.service.request.add_header("X-Add", "2")
		record("seen", kong.request.get_header("x-set"))
		kong.service.request.set_path("/new path")
		kong.service.request.set_query({ b = "2", a = { "1", "x y" }, t = true })
		kong.service.request.set_method("PUT")
		kong.service.request.set_raw_body("payload")
	`)
	addr, _, _ := e.listen()
	req, _ := http.NewRequest("POST", "http://"+addr+"/orig?q=1", strings.NewReader("orig"))
	req.Header.Set("X-Drop", "d")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	e.noErrors()
	got, upBody := e.up.last(t)
	if got.Header.Get("X-Set") != "v" || got.Host != "upstream.test" || got.Header.Get("X-Drop") != "" ||
		strings.Join(got.Header.Values("X-Add"), ",") != "1,2" {
		t.Errorf("upstream headers: host %q %v", got.Host, got.Header)
	}
	if got.Method != "PUT" || got.RequestURI != "/new%20path?a=1&a=x%20y&b=2&t" || upBody != "payload" {
		t.Errorf("upstream request: %s %s %q", got.Method, got.RequestURI, upBody)
	}
	if res.StatusCode != 200 || string(body) != "PUT /new%20path?a=1&a=x%20y&b=2&t payload" {
		t.Errorf("client got %d %q", res.StatusCode, body)
	}
	e.want("seen", "v")

	n := e.up.count()
	req, _ = http.NewRequest("GET", "http://"+addr+"/x", nil)
	req.Header.Set("X-Deny", "1")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 401 || string(body) != `{"message":"Unauthorized"}` || e.up.count() != n {
		t.Errorf("exit: %d %q (upstream calls %d -> %d)", res.StatusCode, body, n, e.up.count())
	}
}

func TestServiceRequestBodyAndQuery(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		local ok, err = kong.service.request.set_body({ b = 2, a = "x" }, "application/json")
		record("ok", ok)
		kong.service.request.set_raw_query("z=1&keep=a+b&z=3")
		kong.service.request.clear_query_arg("z")
	`)
	e.get("/q")
	e.noErrors()
	got, body := e.up.last(t)
	if got.RequestURI != "/q?keep=a%20b" || body != `{"a":"x","b":2}` && body != `{"b":2,"a":"x"}` ||
		got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %q %q", got.RequestURI, body, got.Header.Get("Content-Type"))
	}
	e.want("ok", "true")

	e2 := newEnv(t, proxy.Config{})
	e2.on(PhaseAccess, `
		kong.service.request.set_body({ b = "2", a = "1" }, "application/x-www-form-urlencoded")
	`)
	e2.get("/f")
	e2.noErrors()
	if _, body := e2.up.last(t); body != "a=1&b=2" {
		t.Errorf("form %q", body)
	}

	e3 := newEnv(t, proxy.Config{})
	e3.on(PhaseAccess, `
		kong.service.request.set_body({ n = 1, k = "v" }, "multipart/form-data; boundary=BB")
	`)
	e3.get("/m")
	e3.noErrors()
	got, body = e3.up.last(t)
	want := "--BB\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--BB\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n1\r\n--BB--\r\n"
	if body != want || got.Header.Get("Content-Type") != "multipart/form-data; boundary=BB" {
		t.Errorf("multipart %q %q", body, got.Header.Get("Content-Type"))
	}

	e4 := newEnv(t, proxy.Config{})
	e4.on(PhaseAccess, `
		local ok, err = kong.service.request.set_body({ a = 1 })
		record("ok", ok) record("err", err)
	`)
	e4.get("/n")
	e4.noErrors()
	e4.want("ok", "nil", "err", "content type was neither explicitly given as an argument or received as a header")
}

func TestServiceRequestArgErrors(t *testing.T) {
	cases := []struct{ call, msg string }{
		{"kong.service.request.set_scheme(1)", "scheme must be a string"},
		{"kong.service.request.set_scheme('ftp')", "invalid scheme: ftp"},
		{"kong.service.request.set_path(1)", "path must be a string"},
		{"kong.service.request.set_path('x')", "path must start with /"},
		{"kong.service.request.set_raw_query(1)", "query must be a string"},
		{"kong.service.request.set_method(1)", "method must be a string"},
		{"kong.service.request.set_method('get')", "invalid method: get"},
		{"kong.service.request.set_query('a')", "args must be a table"},
		{"kong.service.request.set_query({ [1] = 'a' })", "arg keys must be strings"},
		{"kong.service.request.set_query({ a = {} , b = function() end })", "attempt to use function as query arg value"},
		{"kong.service.request.clear_query_arg(1)", "query argument name must be a string"},
		{"kong.service.request.set_header(1, 'a')", "invalid header name \"1\": got number, expected string"},
		{"kong.service.request.add_header('a', nil)", `invalid header value for "a": got nil, expected array of string, string, number or boolean`},
		{"kong.service.request.clear_header(1)", "header must be a string"},
		{"kong.service.request.set_headers(1)", "headers must be a table"},
		{"kong.service.request.set_raw_body(1)", "body must be a string"},
		{"kong.service.request.set_body(1)", "args must be a table"},
		{"kong.service.request.set_body({}, 1)", "mime must be a string"},
		{"kong.service.request.set_body({}, 'text/plain')", "unsupported content type text/plain"},
		{"kong.service.request.set_body({ [1] = 1 }, 'multipart/form-data')", `invalid key "1": got number, expected string`},
		{"kong.service.request.set_body({ a = {} }, 'multipart/form-data')", `invalid value "a": got table, expected string, number or boolean`},
		{"kong.service.request.enable_tls()", "function cannot be called in access phase (only in: balancer, preread)"},
		{"kong.service.set_target(1, 80)", "host must be a string"},
		{"kong.service.set_target('h', 1.5)", "port must be an integer"},
		{"kong.service.set_target('h', 70000)", "port must be an integer between 0 and 65535: given 70000"},
		{"kong.service.set_retries(-1)", "retries must be an integer between 0 and 32767: given -1"},
		{"kong.service.set_timeouts(1, 1, 0)", "read_timeout must be an integer between 1 and 2147483646: given 0"},
		{"kong.service.set_timeouts('a', 1, 1)", "connect_timeout must be an integer"},
		{"kong.service.set_upstream(1)", "host must be a string"},
		{"kong.service.set_target_retry_callback(1)", "retry_callback must be a function"},
		{"kong.service.set_tls_verify(1)", "argument must be a boolean"},
		{"kong.service.set_tls_verify_depth('a')", "argument must be a number"},
	}
	e := newEnv(t, proxy.Config{})
	for _, c := range cases {
		t.Run(c.call, func(t *testing.T) {
			e.clear()
			e.on(PhaseAccess, "\n\n"+c.call)
			e.get("/")
			if got, want := e.err(PhaseAccess), "snippet:3: "+c.msg; got != want {
				t.Errorf("error %q, want %q", got, want)
			}
		})
	}
}

func TestServiceSetTargetAndScheme(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		kong.service.set_target("127.0.0.1", `+itoa(0)+` + UPPORT)
		kong.service.set_retries(3)
		kong.service.set_timeouts(10, 20, 30)
		local ok, err = kong.service.set_upstream("nope")
		record("up", err)
		record("bd", ngx.ctx.balancer_data)
		record("authority", select(2, kong.service.request.set_header(":authority", "x")))
	`)
	e.in.L.SetGlobal("UPPORT", luaNumber(e.up.port))
	res := e.get("/t")
	e.noErrors()
	if res.StatusCode() != 200 {
		t.Fatalf("%d %q", res.StatusCode(), res.Body())
	}
	got, _ := e.up.last(t)
	if got.Host != "127.0.0.1" {
		t.Errorf("Host sent %q (set_target sets upstream_host)", got.Host)
	}
	e.want("up", "could not find an Upstream named 'nope'",
		"bd", "{\n  connect_timeout = 10,\n  host = \"127.0.0.1\",\n  port = "+itoa(e.up.port)+",\n  read_timeout = 30,\n  retries = 3,\n  write_timeout = 20\n}",
		"authority", "cannot set :authority pseudo-header on non-grpc requests")

	e2 := newEnv(t, proxy.Config{})
	e2.on(PhaseAccess, `kong.service.request.set_scheme("https")`)
	res = e2.get("/s")
	if res.StatusCode() != 502 {
		t.Errorf("https upstream: %d", res.StatusCode())
	}
}

func TestServiceResponse(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `kong.service.request.enable_buffering()`)
	e.on(PhaseResponse, `
		record("status", kong.service.response.get_status())
		record("hdr", kong.service.response.get_header("X_Upstream"))
		record("headers", kong.service.response.get_headers()["content-type"])
		record("raw", kong.service.response.get_raw_body())
		local b, err = kong.service.response.get_body()
		record("err", err)
		kong.response.set_header("X-Resp", "r")
	`)
	e.on(PhaseHeaderFilter, `
		kong.response.set_header("X-Upstream", "changed")
		record("hf_hdr", kong.service.response.get_header("X-Upstream"))
	`)
	res := e.get("/buf")
	e.noErrors()
	e.want("status", "200", "hdr", "yes", "headers", "text/plain", "raw", "GET /buf ",
		"err", "unsupported content type 'text/plain'", "hf_hdr", "yes")
	if string(res.Header.Peek("X-Resp")) != "r" {
		t.Errorf("%s", res.Header.String())
	}

	e2 := newEnv(t, proxy.Config{})
	e2.on(PhaseHeaderFilter, `
		local ok, err = pcall(function() return kong.service.response.get_raw_body() end)
		record("err", err)
		record("status", kong.service.response.get_status())
	`)
	e2.get("/nobuf")
	e2.noErrors()
	e2.want("err", "snippet:2: service body is only available with buffered proxying (see: kong.service.request.enable_buffering function)",
		"status", "200")
}

// Header names keep the client's case in the proxy: reads, replacements
// and removals ignore it, as nginx does.
func TestHeaderNamesIgnoreCase(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		record("lower", kong.request.get_header("X-Lower"))
		kong.service.request.set_header("x-upper", "c")
		kong.service.request.clear_header("X-LOWER")
	`)
	e.serve("GET /h HTTP/1.1\r\nHost: h\r\nx-lower: a\r\nX-UPPER: b\r\n\r\n")
	e.noErrors()
	e.want("lower", "a")
	got, _ := e.up.last(t)
	if v := got.Header.Values("X-Upper"); len(v) != 1 || v[0] != "c" || got.Header.Get("X-Lower") != "" {
		t.Errorf("upstream headers %v", got.Header)
	}
}

// Kong's t/01-pdk/06-service-request/14-clear_query_arg.t, tests 7 and 8.
func TestClearQueryArgKongCases(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a=0&d=1&a=2&c=3&a=4&b=5&a=6&d=7&a=8", "d=1&c=3&b=5&d=7"},
		{"a=0&c+d=1+2&a=2&c%20d=3%20&a=4&b+d=5&%20a+=6+%20+&+%20+d=+%20+7%20++&a=8",
			"c%20d=1%202&c%20d=3%20&b%20d=5&%20a%20=6%20%20%20&%20%20%20d=%20%20%207%20%20%20"},
		// resty.ada re-serialises what it keeps (Kong's key-auth
		// hide_credentials spec on an encoded query)
		{"c=valu%651&b=value2&%61=kong&a=valu%653", "c=value1&b=value2"},
		{"x=%7e!'()*&&y&%zz=%C3%A9", "x=%7E%21%27%28%29*&y=&%25zz=%C3%A9"},
		{"a=1", ""},
	} {
		e := newEnv(t, proxy.Config{})
		e.on(PhaseAccess, `kong.service.request.clear_query_arg("a") record("q", kong.request.get_raw_query())`)
		e.get("/t?" + c.in)
		e.noErrors()
		e.want("q", c.want)
	}
}

// Kong's t/01-pdk/07-service-response/03-get_header.t tests 6 and 7: only
// what the upstream sent, at its current value; the lower-case raw key
// reads any current header (Kong's table is ngx.resp.get_headers()).
func TestServiceResponseHeadersNotBuffered(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `kong.response.set_header("X-Non-Service-Header", "test")`)
	e.on(PhaseHeaderFilter, `
		kong.response.set_header("X-Upstream", "changed")
		local get = kong.service.response.get_header
		record("service", get("X-Service-Header") or get("X-Upstream"))
		record("non", type(get("X-Non-Service-Header")))
		record("ngx", ngx.header["X-Non-Service-Header"])
		record("raw_lower", get("x-non-service-header"))
		local h = kong.service.response.get_headers()
		record("tbl", h["X-Upstream"])
		record("tbl_non", type(h["X-Non-Service-Header"]))
	`)
	e.get("/nb")
	e.noErrors()
	e.want("service", "changed", "non", "nil", "ngx", "test", "raw_lower", "test", "tbl", "changed", "tbl_non", "nil")
}
