package spechelpers

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func doOn(t *testing.T, h http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func readLog(t *testing.T, h http.Handler, name string) map[string]any {
	t.Helper()
	rec := doOn(t, h, "GET", "/read_log/"+name, "")
	var out map[string]any
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		t.Fatalf("/read_log/%s: %d %q", name, rec.Code, rec.Body)
	}
	return out
}

// post_log keeps each posted entry with the headers it came with;
// read_log gives them back in order with log_req_headers and the count;
// count_log is the count as text; reset_log forgets the log.
func TestMockUpstreamLogEndpoints(t *testing.T) {
	h := MockHandler()
	// never posted to: cjson's empty table and no count
	if rec := doOn(t, h, "GET", "/read_log/mylog", ""); rec.Code != 200 || rec.Body.String() != "{\"entries\":{}}\n" {
		t.Fatalf("empty read_log: %d %q", rec.Code, rec.Body)
	}
	if rec := doOn(t, h, "GET", "/count_log/mylog", ""); rec.Code != 500 {
		t.Errorf("count_log of an unknown log: %d, want Kong's failed assert (500)", rec.Code)
	}
	rec := doOn(t, h, "POST", "/post_log/mylog", `{"request":{"method":"GET"},"n":1,"tags":[]}`,
		"Content-Type", "application/json", "X-Multi", "a", "X-Multi", "b")
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("post_log: %d %q", rec.Code, rec.Body)
	}
	// an array is a batch: one entry each
	if rec := doOn(t, h, "POST", "/post_log/mylog", `[{"n":2},{"n":3}]`); rec.Code != 200 {
		t.Fatalf("post_log batch: %d", rec.Code)
	}
	out := readLog(t, h, "mylog")
	entries := out["entries"].([]any)
	if out["count"] != float64(3) || len(entries) != 3 {
		t.Fatalf("read_log = %v", out)
	}
	first := entries[0].(map[string]any)
	hdrs := first["log_req_headers"].(map[string]any)
	if first["request"].(map[string]any)["method"] != "GET" || first["n"] != float64(1) ||
		hdrs["content-type"] != "application/json" || hdrs["host"] != "example.com" {
		t.Errorf("entries[1] = %v", first)
	}
	if m, ok := hdrs["x-multi"].([]any); !ok || len(m) != 2 {
		t.Errorf("repeated header = %v", hdrs["x-multi"])
	}
	// an empty array comes back from cjson as an empty object
	if tags, ok := first["tags"].(map[string]any); !ok || len(tags) != 0 {
		t.Errorf("tags = %#v", first["tags"])
	}
	if entries[1].(map[string]any)["n"] != float64(2) || entries[2].(map[string]any)["n"] != float64(3) {
		t.Errorf("batch entries = %v", entries[1:])
	}
	if rec := doOn(t, h, "GET", "/count_log/mylog", ""); rec.Code != 200 || rec.Body.String() != "3\n" {
		t.Errorf("count_log: %d %q", rec.Code, rec.Body)
	}
	// reading does not consume
	if n := len(readLog(t, h, "mylog")["entries"].([]any)); n != 3 {
		t.Errorf("second read: %d entries", n)
	}
	// names are separate
	if _, ok := readLog(t, h, "other")["count"]; ok {
		t.Errorf("another log has a count")
	}
	if rec := doOn(t, h, "DELETE", "/reset_log/mylog", ""); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("reset_log: %d %q", rec.Code, rec.Body)
	}
	if out := readLog(t, h, "mylog"); len(out["entries"].(map[string]any)) != 0 || out["count"] != nil {
		t.Errorf("after reset: %v", out)
	}
	if rec := doOn(t, h, "GET", "/count_log/mylog", ""); rec.Code != 500 {
		t.Errorf("count_log after reset: %d", rec.Code)
	}
}

// A body that is not JSON, or JSON that is not a table, is a Lua error in
// Kong's store_log: 500. An empty array is one empty entry.
func TestMockUpstreamPostLogBodies(t *testing.T) {
	h := MockHandler()
	for _, body := range []string{"", "{", "not json", "5", "true", "null"} {
		if rec := doOn(t, h, "POST", "/post_log/bad", body); rec.Code != 500 {
			t.Errorf("post_log %q: %d, want 500", body, rec.Code)
		}
	}
	if rec := doOn(t, h, "GET", "/count_log/bad", ""); rec.Code != 500 {
		t.Errorf("bad bodies stored something: %d %q", rec.Code, rec.Body)
	}
	doOn(t, h, "POST", "/post_log/empty", "[]")
	entries := readLog(t, h, "empty")["entries"].([]any)
	if len(entries) != 1 || len(entries[0].(map[string]any)) != 1 {
		t.Errorf("[] stored %v", entries)
	}
	// an entry that is not a table fails reading, as Kong's
	doOn(t, h, "POST", "/post_log/scalar", "[1]")
	if rec := doOn(t, h, "GET", "/read_log/scalar", ""); rec.Code != 500 {
		t.Errorf("read_log of a number entry: %d", rec.Code)
	}
}

// Names are Kong's [a-z0-9_]+: another name is not a log endpoint (the
// /post prefix's echo, or the 404 echo).
func TestMockUpstreamLogNames(t *testing.T) {
	h := MockHandler()
	if rec := doOn(t, h, "POST", "/post_log/My-Log", `{"a":1}`); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), `"post_data"`) {
		t.Errorf("/post_log/My-Log is /post's echo: %d %q", rec.Code, rec.Body)
	}
	if rec := doOn(t, h, "GET", "/post_log/my_log_2", ""); rec.Code != 500 {
		t.Errorf("GET /post_log/my_log_2 (no body): %d", rec.Code)
	}
	for _, p := range []string{"/read_log/My-Log", "/count_log/a/b", "/reset_log/", "/read_log/x.y"} {
		if rec := doOn(t, h, "GET", p, ""); rec.Code != 404 || !strings.Contains(rec.Body.String(), `"vars"`) {
			t.Errorf("%s: %d %q", p, rec.Code, rec.Body)
		}
	}
}

// post_auth_log stores only with the path's basic credentials.
func TestMockUpstreamPostAuthLog(t *testing.T) {
	h := MockHandler()
	if rec := doOn(t, h, "POST", "/post_auth_log/alog/u/p", `{"a":1}`); rec.Code != 401 ||
		rec.Header().Get("WWW-Authenticate") != "mock_upstream" {
		t.Errorf("without credentials: %d %v", rec.Code, rec.Header())
	}
	auth := "Basic " + "dTpw" // u:p
	if rec := doOn(t, h, "POST", "/post_auth_log/alog/u/p", `{"a":1}`, "Authorization", auth); rec.Code != 200 {
		t.Errorf("with credentials: %d %q", rec.Code, rec.Body)
	}
	out := readLog(t, h, "alog")
	e := out["entries"].([]any)[0].(map[string]any)
	if out["count"] != float64(1) || e["a"] != float64(1) || e["log_req_headers"].(map[string]any)["authorization"] != auth {
		t.Errorf("read_log = %v", out)
	}
}

// The log store is one per mock upstream: posted over HTTPS, read over
// HTTP; posts from many clients at once all land.
func TestMockUpstreamLogSharedAcrossListeners(t *testing.T) {
	m, err := StartMockUpstream("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.ListenTLS("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // a test certificate
	defer c.CloseIdleConnections()
	sslURL := "https://127.0.0.1:" + strconv.Itoa(m.SSLPort())
	plainURL := "http://127.0.0.1:" + strconv.Itoa(m.Port())
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			base := plainURL
			if i%2 == 0 {
				base = sslURL
			}
			res, err := c.Post(base+"/post_log/shared", "application/json", strings.NewReader(`{"i":`+strconv.Itoa(i)+`}`))
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("post %d: %d", i, res.StatusCode)
			}
		}(i)
	}
	wg.Wait()
	res, err := c.Get(plainURL + "/count_log/shared")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "20\n" {
		t.Fatalf("count_log over HTTP = %q", b)
	}
	res, err = c.Get(sslURL + "/echo_sni")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	// an IP address sends no SNI: nginx's empty $ssl_server_name
	if string(b) != "SNI=\n" {
		t.Errorf("/echo_sni = %q", b)
	}
	named := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		ServerName: "localhost", InsecureSkipVerify: true}}} //nolint:gosec // a test certificate
	defer named.CloseIdleConnections()
	res, err = named.Get(sslURL + "/echo_sni")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "SNI=localhost\n" {
		t.Errorf("/echo_sni with SNI = %q", b)
	}
}

// /timestamp, /hop-by-hop, /stream/{n} and /echo_sni as Kong's locations.
func TestMockUpstreamOtherLocations(t *testing.T) {
	h := MockHandler()
	rec := doOn(t, h, "GET", "/timestamp", "")
	ts, err := strconv.ParseFloat(rec.Header().Get("Server-Time"), 64)
	if rec.Code != 200 || err != nil || ts < 1e9 || rec.Body.Len() != 0 {
		t.Errorf("/timestamp: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	rec = doOn(t, h, "GET", "/hop-by-hop", "")
	if rec.Code != 200 || rec.Header().Get("Proxy") != "Remove-Me" || rec.Header().Get("Upgrade") != "example/1, foo/2" ||
		rec.Header().Get("Content-Length") != "" || !strings.HasPrefix(rec.Body.String(), "hello\r\n\r\nExpires:") {
		t.Errorf("/hop-by-hop: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	rec = doOn(t, h, "GET", "/stream/3?x=1", "")
	lines := strings.Split(strings.TrimSuffix(rec.Body.String(), "\n"), "\n")
	var first map[string]any
	if rec.Code != 200 || len(lines) != 3 || json.Unmarshal([]byte(lines[2]), &first) != nil ||
		first["uri_args"].(map[string]any)["x"] != "1" {
		t.Errorf("/stream/3: %d %q", rec.Code, rec.Body)
	}
	if rec := doOn(t, h, "GET", "/echo_sni", ""); rec.Code != 200 || rec.Body.String() != "SNI=\n" {
		t.Errorf("/echo_sni over HTTP: %d %q", rec.Code, rec.Body)
	}
}
