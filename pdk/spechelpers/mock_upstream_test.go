package spechelpers

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func mockDo(t *testing.T, method, target, ct, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	rec := httptest.NewRecorder()
	MockHandler().ServeHTTP(rec, req)
	var out map[string]any
	if rec.Header().Get("Content-Type") != "application/json" {
		return rec, nil
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, target, rec.Body.String())
	}
	return rec, out
}

func TestMockUpstreamEchoesInKongsShape(t *testing.T) {
	rec, out := mockDo(t, "GET", "http://example.test/request/x?a=1&b=2&b=3", "", "")
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	headers := out["headers"].(map[string]any)
	if headers["host"] != "example.test" {
		t.Errorf("headers.host = %v", headers["host"])
	}
	if m, ok := headers["x-multi"].([]any); !ok || len(m) != 2 || m[0] != "a" {
		t.Errorf("a repeated header is an array under its lower-case name: %v", headers)
	}
	args := out["uri_args"].(map[string]any)
	if args["a"] != "1" || len(args["b"].([]any)) != 2 {
		t.Errorf("uri_args = %v", args)
	}
	vars := out["vars"].(map[string]any)
	if vars["uri"] != "/request/x" || vars["request_method"] != "GET" || vars["request_uri"] != "/request/x?a=1&b=2&b=3" || vars["is_args"] != "?" {
		t.Errorf("vars = %v", vars)
	}
	if out["url"] != "http://example.test:80/request/x?a=1&b=2&b=3" {
		t.Errorf("url = %v", out["url"])
	}
}

func TestMockUpstreamPostData(t *testing.T) {
	_, out := mockDo(t, "POST", "/post", "application/x-www-form-urlencoded", "k=v&k2=v2")
	pd := out["post_data"].(map[string]any)
	if pd["kind"] != "form" || pd["params"].(map[string]any)["k2"] != "v2" || pd["text"] != "k=v&k2=v2" {
		t.Errorf("form post_data = %v", pd)
	}
	_, out = mockDo(t, "POST", "/anything", "application/json", `{"n":1}`)
	pd = out["post_data"].(map[string]any)
	if pd["kind"] != "json" || pd["params"].(map[string]any)["n"] != float64(1) {
		t.Errorf("json post_data = %v", pd)
	}
}

// Answers in the shape of Kong's mock upstream (spec/fixtures/mock_upstream.lua
// under its nginx server block): any path is an echo, 404 for an unknown
// one; /status and /delay add code and delay, /basic-auth echoes too;
// params is null without a body kind; a bare query key is true; every
// answer says X-Powered-By: mock_upstream; the URL always has a port.
func TestMockUpstreamKongsAnswers(t *testing.T) {
	rec, out := mockDo(t, "GET", "http://h.test/nowhere?flag&e=", "", "")
	if rec.Code != 404 || out == nil || out["headers"] == nil {
		t.Fatalf("unknown path: %d %s", rec.Code, rec.Body)
	}
	if args := out["uri_args"].(map[string]any); args["flag"] != true || args["e"] != "" {
		t.Errorf("uri_args = %v", args)
	}
	if pd := out["post_data"].(map[string]any); pd["kind"] != "unknown" || pd["params"] != nil {
		t.Errorf("post_data = %v", pd)
	} else if _, ok := pd["params"]; !ok {
		t.Errorf("post_data.params is null, not absent: %v", pd)
	}
	if vars := out["vars"].(map[string]any); vars["ssl_server_name"] != "no SNI" || vars["server_name"] != "mock_upstream" {
		t.Errorf("vars = %v", vars)
	}
	if rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %q for %d bytes", rec.Header().Get("Content-Length"), rec.Body.Len())
	}
	if rec.Header().Get("X-Powered-By") != "mock_upstream" || !strings.HasSuffix(rec.Body.String(), "}\n") {
		t.Errorf("send_text_response's headers and newline: %v %q", rec.Header(), rec.Body)
	}
	rec, out = mockDo(t, "GET", "/status/418", "", "")
	if rec.Code != 418 || out["code"] != float64(418) {
		t.Errorf("/status/418: %d %v", rec.Code, out["code"])
	}
	rec, out = mockDo(t, "GET", "/delay/0", "", "")
	if rec.Code != 200 || out["delay"] != float64(0) {
		t.Errorf("/delay/0: %d %v", rec.Code, out["delay"])
	}
	rec, _ = mockDo(t, "GET", "/delay/0.5", "", "")
	if rec.Code != 404 {
		t.Errorf("/delay/0.5: %d", rec.Code)
	}
	req := httptest.NewRequest("GET", "/basic-auth/u/p", nil)
	req.SetBasicAuth("u", "p")
	rr := httptest.NewRecorder()
	MockHandler().ServeHTTP(rr, req)
	if !strings.Contains(rr.Body.String(), `"headers"`) || !strings.Contains(rr.Body.String(), `"user":"u"`) {
		t.Errorf("/basic-auth echoes the request too: %s", rr.Body)
	}
	rec, _ = mockDo(t, "POST", "/get", "", "")
	if rec.Code != 405 || rec.Body.String() != "Method not allowed for the requested URL\n" {
		t.Errorf("POST /get: %d %q", rec.Code, rec.Body)
	}
	_, out = mockDo(t, "POST", "/post", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--B--\r\n")
	if pd := out["post_data"].(map[string]any); pd["kind"] != "multipart-form" || pd["params"].(map[string]any)["f"] != "v" {
		t.Errorf("multipart post_data = %v", pd)
	}
	_, out = mockDo(t, "POST", "/post", "application/json", "{")
	if pd := out["post_data"].(map[string]any); pd["kind"] != "json (error)" || pd["params"] != nil || pd["error"] == nil {
		t.Errorf("bad JSON post_data = %v", pd)
	}
}

func TestMockUpstreamPaths(t *testing.T) {
	for _, c := range []struct {
		method, target string
		code           int
	}{
		{"GET", "/", 200},
		{"GET", "/anything/deep/path", 200},
		{"GET", "/get", 200},
		{"POST", "/get", 405},
		{"GET", "/post", 405},
		{"GET", "/status/418", 418},
		{"GET", "/status/abc", 404},
		{"GET", "/status/4180", 404},
		{"POST", "/response-headers", 405},
		{"GET", "/nowhere", 404},
	} {
		rec, _ := mockDo(t, c.method, c.target, "", "")
		if rec.Code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.target, rec.Code, c.code)
		}
	}
	rec, _ := mockDo(t, "GET", "/response-headers?X-Set=yes", "", "")
	if rec.Header().Get("X-Set") != "yes" {
		t.Errorf("/response-headers did not set X-Set: %v", rec.Header())
	}
	if rec.Result().StatusCode != http.StatusOK {
		t.Errorf("status %d", rec.Code)
	}
	// the arguments win over the echo's own headers, as Kong's mock sets
	// them last (proxy-cache's spec sends an invalid Content-Type so)
	rec, _ = mockDo(t, "GET", "/response-headers?Content-Type=application/xml;&Server=other", "", "")
	if ct, sv := rec.Header().Get("Content-Type"), rec.Header().Get("Server"); ct != "application/xml;" || sv != "other" {
		t.Errorf("/response-headers: Content-Type %q, Server %q", ct, sv)
	}
}

func TestMockUpstreamCacheAuthXML(t *testing.T) {
	rec, _ := mockDo(t, "GET", "/cache/60", "", "")
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("/cache/60: %d %v", rec.Code, rec.Header())
	}
	rec, _ = mockDo(t, "GET", "/delay/0", "", "")
	if rec.Code != 200 {
		t.Errorf("/delay/0: %d", rec.Code)
	}
	rec, _ = mockDo(t, "GET", "/basic-auth/u/p", "", "")
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("/basic-auth without credentials: %d", rec.Code)
	}
	req := httptest.NewRequest("GET", "/basic-auth/u/p", nil)
	req.SetBasicAuth("u", "p")
	rr := httptest.NewRecorder()
	MockHandler().ServeHTTP(rr, req)
	if rr.Code != 200 || !strings.Contains(rr.Body.String(), `"authenticated":true`) {
		t.Errorf("/basic-auth with credentials: %d %s", rr.Code, rr.Body)
	}
	req.SetBasicAuth("u", "wrong")
	rr = httptest.NewRecorder()
	MockHandler().ServeHTTP(rr, req)
	if rr.Code != 401 {
		t.Errorf("/basic-auth with a wrong password: %d", rr.Code)
	}
	rr = httptest.NewRecorder()
	MockHandler().ServeHTTP(rr, httptest.NewRequest("GET", "/xml", nil))
	if rr.Code != 200 || rr.Header().Get("Content-Type") != "application/xml" || !strings.Contains(rr.Body.String(), "<note>") {
		t.Errorf("/xml: %d %s", rr.Code, rr.Body)
	}
}

// The TLS side is the same mock upstream, answering with nginx's $scheme
// and $https for TLS, over HTTP/1.1 only.
func TestMockUpstreamTLS(t *testing.T) {
	m, err := StartMockUpstream("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.SSLPort() != 0 {
		t.Fatalf("SSLPort before ListenTLS = %d", m.SSLPort())
	}
	if err := m.ListenTLS("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // a test certificate
	defer c.CloseIdleConnections()
	url := "https://127.0.0.1:" + strconv.Itoa(m.SSLPort()) + "/request?a=1"
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	vars := out["vars"].(map[string]any)
	if res.ProtoMajor != 1 || vars["scheme"] != "https" || vars["https"] != "on" || out["url"] != url ||
		res.TLS == nil || res.TLS.PeerCertificates[0].Subject.CommonName != "localhost" {
		t.Fatalf("proto %s, vars %v, url %v", res.Proto, vars, out["url"])
	}
	_, plain := mockDo(t, "GET", "http://example.test/request", "", "")
	if v := plain["vars"].(map[string]any); v["scheme"] != "http" || v["https"] != "" {
		t.Fatalf("plain vars %v", v)
	}
}

// Kong's mock upstream trusts X-Real-IP from 127.0.0.1 (its
// set_real_ip_from), as nginx's realip: remote_addr is the address the
// proxy saw, realip_remote_addr the connection's.
func TestMockUpstreamRealIP(t *testing.T) {
	cases := []struct{ from, header, addr, port string }{
		{"127.0.0.1:4000", "127.0.0.3", "127.0.0.3", ""},
		{"127.0.0.1:4000", "::1", "::1", ""},
		{"127.0.0.1:4000", "10.0.0.1:99", "10.0.0.1", "99"},
		{"127.0.0.1:4000", "not an ip", "127.0.0.1", "4000"},
		{"10.1.1.1:4000", "127.0.0.3", "10.1.1.1", "4000"},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", "http://example.test/request", nil)
		req.RemoteAddr = c.from
		req.Header.Set("X-Real-IP", c.header)
		rec := httptest.NewRecorder()
		MockHandler().ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		vars := out["vars"].(map[string]any)
		conn := strings.Split(c.from, ":")[0]
		if vars["remote_addr"] != c.addr || vars["remote_port"] != c.port || vars["realip_remote_addr"] != conn {
			t.Errorf("from %s with X-Real-IP %q: remote_addr %v, remote_port %v, realip_remote_addr %v", c.from, c.header,
				vars["remote_addr"], vars["remote_port"], vars["realip_remote_addr"])
		}
	}
}
