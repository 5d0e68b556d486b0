package spechelpers

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
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
