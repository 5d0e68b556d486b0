package spechelpers

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/luahost/luahost/luavm"
)

// An http_mock route's ngx.say of a table holding itself raises "table
// nested too deeply" and one of an array shared 2^40 ways "no memory", as
// the real ngx.say, instead of a Go stack overflow or an exhausted memory
// that end the spec run.
func TestHTTPMockSayCyclicTable(t *testing.T) {
	resp, body := mockServe(t, MockRoute{Path: "/", Content: `
		local cyc = { "a" } cyc[2] = cyc
		local dag = { "x" } for _ = 1, 40 do dag = { dag, dag } end
		local _, e1 = pcall(ngx.say, cyc)
		local _, e2 = pcall(ngx.say, dag)
		ngx.say(e1, "|", e2)`}, nil)
	const want = "http_mock / content:4: table nested too deeply|http_mock / content:5: no memory\n"
	if resp.StatusCode != 200 || string(body) != want {
		t.Errorf("%d %.200q", resp.StatusCode, body)
	}
}

// ngx.req.get_headers(nil, true) and the logged request give the header
// names as the client wrote them, as nginx does (net/http canonicalises
// them): two requests on one connection, lower and odd case.
func TestHTTPMockRawHeaderNames(t *testing.T) {
	L := luavm.NewState(luavm.Options{})
	m, err := NewHTTPMock(0, []MockRoute{{Path: "/", Content: `
		local raw, names = ngx.req.get_headers(nil, true), {}
		for k in pairs(raw) do names[#names + 1] = k end
		table.sort(names)
		ngx.print(table.concat(names, ","), "|", ngx.req.get_headers()["x-odd-case"])`}}, MockLogOpts{Req: true}, L, L.Close)
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	defer m.Stop()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(m.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i, want := range []string{"X-oDD-case,host|1", "HOST,identical|"} {
		head := "GET /a?q=" + strconv.Itoa(i) + " HTTP/1.1\r\nhost: x\r\nX-oDD-case: 1\r\n\r\n"
		if i == 1 {
			head = "POST /b HTTP/1.1\r\nHOST: x\r\nidentical: true\r\nContent-Length: 4\r\n\r\nbody"
			want = "Content-Length,HOST,identical|nil"
		}
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("request %d: %q, want %q", i, body, want)
		}
	}
	var logs []map[string]any
	if err := json.Unmarshal(m.TakeLogs(), &logs); err != nil || len(logs) != 2 {
		t.Fatalf("logs: %v %v", logs, err)
	}
	if h := logs[1]["req"].(map[string]any)["headers"].(map[string]any); h["identical"] != "true" || h["HOST"] != "x" {
		t.Errorf("logged headers: %v", h)
	}
}

// ngx.var.http_<name> is the request header <name> ('_' for '-', its case
// ignored; nil when absent), as set_header left it, and ngx.var.arg_<name>
// the query argument, as nginx's variables.
func TestHTTPMockVarHeadersAndArgs(t *testing.T) {
	req, _ := http.NewRequest("GET", "/?q=1", nil)
	req.Header.Set("via", "1.1 dev")
	_, body := mockServe(t, MockRoute{Path: "/", Access: `ngx.req.set_header("X-Req-To", "http_mock")`, Content: `
		ngx.print(tostring(ngx.var.http_via), "|", tostring(ngx.var.http_x_req_to), "|", tostring(ngx.var.http_absent),
			"|", tostring(ngx.var.arg_q), "|", tostring(ngx.var.arg_none))`}, req)
	if want := "1.1 dev|http_mock|nil|1|nil"; string(body) != want {
		t.Errorf("%q, want %q", body, want)
	}
}

// A route's HeaderFilter runs once the content phase is done, before the
// response's headers are sent: what it sets in ngx.header is answered.
func TestHTTPMockHeaderFilter(t *testing.T) {
	resp, body := mockServe(t, MockRoute{Path: "/", Content: `ngx.header["X-C"] = "c" ngx.say("ok")`,
		HeaderFilter: `ngx.header["Via"] = "2 nginx"`}, nil)
	if resp.Header.Get("Via") != "2 nginx" || string(body) != "ok\n" {
		t.Errorf("%v %q", resp.Header, body)
	}
}

// ngx.header.content_type is Content-Type ('_' written '-', as ngx_lua's
// lua_transform_underscores_in_response_headers), and a Content-Type set
// is answered as set (no charset added).
func TestHTTPMockHeaderUnderscores(t *testing.T) {
	resp, body := mockServe(t, MockRoute{Path: "/", Content: `
		ngx.header.content_type = "text/plain"
		ngx.header.x_one = "1"
		ngx.say(ngx.header["Content-Type"], "|", ngx.header.x_one)`}, nil)
	if resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("X-One") != "1" || string(body) != "text/plain|1\n" {
		t.Errorf("%v %q", resp.Header, body)
	}
}

// mockServe starts an http_mock with route on its own state, sends req
// (its URL's path and query; nil: GET /) and returns the response and its
// body; the mock stops with the test.
func mockServe(t *testing.T, route MockRoute, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	L := luavm.NewState(luavm.Options{})
	m, err := NewHTTPMock(0, []MockRoute{route}, MockLogOpts{}, L, L.Close)
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(m.Stop)
	if req == nil {
		req, _ = http.NewRequest("GET", "/", nil)
	}
	req.URL.Scheme, req.URL.Host = "http", "127.0.0.1:"+strconv.Itoa(m.Port())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}
