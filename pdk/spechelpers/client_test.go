package spechelpers

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The spec clients speak as lua-resty-http: HTTP/1.1 even to a TLS server
// offering h2 (Kong's "http2 ssl" entries), and no Accept-Encoding of
// their own.
func TestSpecTransportIsHTTP11WithoutCompression(t *testing.T) {
	var proto, acceptEncoding string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto, acceptEncoding = r.Proto, r.Header.Get("Accept-Encoding")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	c := &http.Client{Transport: specTransport(&tls.Config{InsecureSkipVerify: true})} //nolint:gosec // test server
	res, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if proto != "HTTP/1.1" || acceptEncoding != "" {
		t.Errorf("the server saw %s with Accept-Encoding %q", proto, acceptEncoding)
	}
}

// lua-resty-http goes straight to the address: no proxy from the
// environment.
func TestSpecTransportUsesNoProxy(t *testing.T) {
	if specTransport(nil).Proxy != nil {
		t.Error("the spec clients' transport takes a proxy from the environment")
	}
}

// A spec sending Transfer-Encoding: chunked gives the body already
// chunk-encoded, and lua-resty-http writes it as it is: the server sees a
// chunked request of the decoded bytes, no Content-Length.
func TestRequestSendsPreChunkedBody(t *testing.T) {
	var te []string
	var cl int64
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		te, cl = r.TransferEncoding, r.ContentLength
		b, _ := io.ReadAll(r.Body)
		got = string(b)
	}))
	defer srv.Close()
	L := lua.NewState()
	defer L.Close()
	cs := &clients{plain: &http.Client{Transport: specTransport(nil)}, tls: map[string]*http.Client{}}
	L.SetGlobal("request", L.NewFunction(func(L *lua.LState) int { return request(L, cs) }))
	if err := L.DoString(`assert(request("GET", "` + srv.URL + `/", { ["Transfer-Encoding"] = "chunked" },
		"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"))`); err != nil {
		t.Fatal(err)
	}
	if len(te) != 1 || te[0] != "chunked" || cl != -1 || got != "hello world" {
		t.Errorf("the server saw Transfer-Encoding %v, Content-Length %d, body %q", te, cl, got)
	}
}
