package request

import (
	"strings"
	"testing"

	"github.com/luahost/luahost/proxy"
)

func TestKongResponseExitTable(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		local ok, err = pcall(kong.response.exit, 403, { message = "nope" }, { ["X-A"] = { "1", "2" }, ["X-B"] = 7 })
		record("after", "pcall returned")
	`)
	e.on(PhaseLog, `record("source", kong.response.get_source()) record("status", kong.response.get_status())`)
	n := e.up.count()
	res := e.get("/x")
	e.noErrors()
	if res.StatusCode() != 403 || string(res.Body()) != `{"message":"nope"}` {
		t.Fatalf("%d %q", res.StatusCode(), res.Body())
	}
	if ct := string(res.Header.ContentType()); ct != "application/json; charset=utf-8" {
		t.Errorf("content-type %q", ct)
	}
	if res.Header.ContentLength() != len(`{"message":"nope"}`) {
		t.Errorf("content-length %d", res.Header.ContentLength())
	}
	var xa []string
	for _, v := range res.Header.PeekAll("X-A") {
		xa = append(xa, string(v))
	}
	if strings.Join(xa, ",") != "1,2" || string(res.Header.Peek("X-B")) != "7" {
		t.Errorf("headers %q %q", xa, res.Header.Peek("X-B"))
	}
	if e.up.count() != n {
		t.Error("the upstream was called after kong.response.exit")
	}
	e.want("after", "<missing>", "source", "exit", "status", "403")
}

func TestKongResponseExitInRewriteAndString(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseRewrite, `kong.response.exit(200, "hello", { ["Content-Type"] = "text/plain" })`)
	e.on(PhaseAccess, `record("access", "ran")`)
	res := e.get("/x")
	e.noErrors()
	if res.StatusCode() != 200 || string(res.Body()) != "hello" || string(res.Header.ContentType()) != "text/plain" {
		t.Fatalf("%d %q %q", res.StatusCode(), res.Body(), res.Header.ContentType())
	}
	e.want("access", "<missing>")

	e2 := newEnv(t, proxy.Config{})
	e2.on(PhaseAccess, `kong.response.exit(204)`)
	res = e2.get("/x")
	e2.noErrors()
	if res.StatusCode() != 204 || len(res.Body()) != 0 {
		t.Fatalf("%d %q", res.StatusCode(), res.Body())
	}
}

func TestKongResponseExitInHeaderFilter(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseHeaderFilter, `kong.response.exit(418, { tea = true })`)
	res := e.get("/x")
	e.noErrors()
	if res.StatusCode() != 418 || string(res.Body()) != `{"tea":true}` || string(res.Header.Peek("X-Upstream")) != "yes" {
		t.Fatalf("%d %q %q", res.StatusCode(), res.Body(), res.Header.Peek("X-Upstream"))
	}
}

func TestKongResponseExitArgErrors(t *testing.T) {
	cases := []struct{ call, msg string }{
		{"kong.response.exit('200')", "code must be a number"},
		{"kong.response.exit(99)", "code must be a number between 100 and 599"},
		{"kong.response.exit(600)", "code must be a number between 100 and 599"},
		{"kong.response.exit(200, 12)", "body must be a nil, string or table"},
		{"kong.response.exit(200, nil, 'x')", "headers must be a nil or table"},
		{"kong.response.exit(200, nil, { [1] = 'x' })", `invalid header name "1": got number, expected string`},
		{"kong.response.exit(200, nil, { a = {} , b = function() end })", `invalid header value for "b": got function, expected string, number, boolean or array of strings`},
		{"kong.response.exit(200, nil, { a = { 1 } })", `invalid header value in array "a": got number, expected string`},
		{"kong.response.exit(200, { f = function() end })", "body encoding failed while flushing response: Cannot serialise function: type not supported"},
		{"kong.response.error(399)", "code must be a number between 400 and 599"},
		{"kong.response.error(500, 5)", "message must be a nil, a string or a table"},
		{"kong.response.error(500, nil, 5)", "headers must be a nil or table"},
		{"kong.response.set_status(1000)", "code must be a number between 100 and 599"},
		{"kong.response.set_header(1, 'a')", `invalid header name "1": got number, expected string`},
		{"kong.response.set_header('a', {})", ""},
		{"kong.response.set_header('a', function() end)", `invalid header value for "a": got function, expected array of string, string, number or boolean`},
		{"kong.response.clear_header(1)", "header name must be a string"},
		{"kong.response.set_header({}, 'a')", "bad argument #2 to 'format' (string expected, got table)"},
		{"kong.response.set_headers(1)", "headers must be a table"},
	}
	e := newEnv(t, proxy.Config{})
	for _, c := range cases {
		t.Run(c.call, func(t *testing.T) {
			e.clear()
			e.on(PhaseAccess, "\n\n"+c.call)
			e.get("/")
			want := ""
			if c.msg != "" {
				want = "snippet:3: " + c.msg
			}
			if got := e.err(PhaseAccess); got != want {
				t.Errorf("error %q, want %q", got, want)
			}
		})
	}
}

func TestKongResponseError(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `kong.response.error(401)`)
	res := e.get("/x", "Accept", "text/html")
	e.noErrors()
	if res.StatusCode() != 401 || !strings.Contains(string(res.Body()), "<p>Unauthorized.</p>") ||
		string(res.Header.ContentType()) != "text/html; charset=utf-8" {
		t.Fatalf("%d %q %q", res.StatusCode(), res.Body(), res.Header.ContentType())
	}
	rid := string(res.Header.Peek("X-Kong-Request-Id"))
	if !strings.Contains(string(res.Body()), "request_id: "+rid) {
		t.Errorf("no request id %q in %q", rid, res.Body())
	}

	e2 := newEnv(t, proxy.Config{})
	e2.on(PhaseAccess, `kong.response.error(429, { retry = 1 }, { ["Content-Type"] = "text/plain" })`)
	res = e2.get("/x")
	e2.noErrors()
	if res.StatusCode() != 429 || !strings.HasPrefix(string(res.Body()), `{"retry":1}`+"\nrequest_id: ") {
		t.Fatalf("%d %q", res.StatusCode(), res.Body())
	}

	// Kong's t/01-pdk/08-response/13-error.t, tests 4 and 5
	e4 := newEnv(t, proxy.Config{})
	e4.on(PhaseAccess, `
		if kong.request.get_query_arg("t") == "4" then
			return kong.response.error(503, "this is fine", { ["Content-Type"] = "application/xml" })
		end
		return kong.response.error(502, { ["a field"] = "not a default message" })
	`)
	res = e4.get("/x?t=4", "Accept", "application/json")
	e4.noErrors()
	if res.StatusCode() != 503 || string(res.Header.ContentType()) != "application/xml" ||
		!strings.Contains(string(res.Body()), "<message>this is fine</message>") {
		t.Errorf("explicit xml: %d %q %q", res.StatusCode(), res.Header.ContentType(), res.Body())
	}
	res = e4.get("/x?t=5", "Accept", "text/plain;q=0.3, application/xml")
	if res.StatusCode() != 502 || string(res.Header.ContentType()) != "application/xml; charset=utf-8" ||
		!strings.Contains(string(res.Body()), `<message>{"a field":"not a default message"}</message>`) {
		t.Errorf("accept xml: %d %q %q", res.StatusCode(), res.Header.ContentType(), res.Body())
	}

	e3 := newEnv(t, proxy.Config{})
	e3.on(PhaseAccess, `kong.response.error(599)`)
	res = e3.get("/x")
	e3.noErrors()
	if want := "{\n  \"message\":\"The upstream server responded with 599\",\n  \"request_id\":\""; !strings.HasPrefix(string(res.Body()), want) ||
		string(res.Header.ContentType()) != "application/json; charset=utf-8" {
		t.Fatalf("%q %q", res.Body(), res.Header.ContentType())
	}
}

func TestKongResponseHeadersAcrossUpstream(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		kong.response.set_header("X-Access", "a")
		kong.response.add_header("X-Added", "1")
		kong.response.add_header("X-Added", "2")
		kong.response.set_header("Transfer-Encoding", "chunked")
	`)
	e.on(PhaseHeaderFilter, `
		record("status", kong.response.get_status())
		record("up", kong.response.get_header("x-upstream"))
		record("access", kong.response.get_header("X_Access"))
		local h = kong.response.get_headers()
		record("added", h["x-added"])
		record("source", kong.response.get_source())
		kong.response.clear_header("X-Upstream")
		kong.response.set_status(201)
		kong.response.set_headers({ ["X-Hf"] = "h" })
	`)
	res := e.get("/x")
	e.noErrors()
	e.want("status", "200", "up", "yes", "access", "a", "added", `{ "1", "2" }`, "source", "service")
	if res.StatusCode() != 201 || string(res.Header.Peek("X-Access")) != "a" || res.Header.Peek("X-Upstream") != nil ||
		string(res.Header.Peek("X-Hf")) != "h" {
		t.Errorf("%d %s", res.StatusCode(), res.Header.String())
	}
	found := false
	for _, l := range e.logs.lines {
		if strings.Contains(l, "manually setting Transfer-Encoding. Ignored.") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning: %q", e.logs.lines)
	}
}

func TestKongResponseRawBody(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseBodyFilter, `
		local body = kong.response.get_raw_body()
		record("body", body)
		kong.response.set_raw_body(body:upper())
	`)
	res := e.get("/up")
	e.noErrors()
	e.want("body", "GET /up ")
	if string(res.Body()) != "GET /UP " {
		t.Errorf("%q", res.Body())
	}
	e2 := newEnv(t, proxy.Config{})
	e2.on(PhaseBodyFilter, `kong.response.set_raw_body(1)`)
	e2.get("/up")
	if got := e2.err(PhaseBodyFilter); got != "snippet:1: body must be a string" {
		t.Errorf("%q", got)
	}
}

// A plugin that sets ngx.ctx.KONG_PROXIED before kong.response.exit
// (proxy-cache serving a hit) gets the proxied response's Kong headers,
// as Kong's header_filter writes them from ctx.KONG_PROXIED; without it,
// X-Kong-Response-Latency.
func TestKongResponseExitMarkedProxied(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		if kong.request.get_header("X-Hit") then ngx.ctx.KONG_PROXIED = true end
		return kong.response.exit(200, "cached")
	`)
	res := e.get("/x", "X-Hit", "1")
	e.noErrors()
	for _, h := range []string{"X-Kong-Proxy-Latency", "X-Kong-Upstream-Latency", "Via"} {
		if len(res.Header.Peek(h)) == 0 {
			t.Errorf("hit: no %s", h)
		}
	}
	if v := res.Header.Peek("X-Kong-Response-Latency"); v != nil {
		t.Errorf("hit: X-Kong-Response-Latency %q", v)
	}
	res = e.get("/x")
	if len(res.Header.Peek("X-Kong-Response-Latency")) == 0 || res.Header.Peek("X-Kong-Proxy-Latency") != nil {
		t.Errorf("exit: %s", res.Header.String())
	}
}
