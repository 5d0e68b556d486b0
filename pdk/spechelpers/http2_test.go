package spechelpers

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func protoServer(t *testing.T, tls bool) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Write([]byte(r.Method + " " + r.Host + " " + r.URL.RequestURI()))
	})
	if tls {
		srv := httptest.NewUnstartedServer(h)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, Protocols: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// http2_client's request: HTTP/2 with prior knowledge in cleartext, over
// ALPN with TLS, HTTP/1.1 when asked; pseudo-headers shape the request.
func TestH2Request(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tls   bool
		http1 string
		proto string
	}{
		{"h2c", false, "false", "HTTP/2.0"},
		{"h2", true, "false", "HTTP/2.0"},
		{"http1", false, "true", "HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := protoServer(t, tc.tls)
			L := lua.NewState()
			defer L.Close()
			L.SetGlobal("h2_request", L.NewFunction(h2Request))
			err := L.DoString(`
				local status, h, body = h2_request("` + url + `", { [":authority"] = "a.test",
					[":path"] = "/p?q=1", [":method"] = "PUT" }, nil, 5000, ` + tc.http1 + `)
				assert(status == 200, tostring(h))
				assert(h["x-proto"] == "` + tc.proto + `", h["x-proto"])
				assert(h["x-multi"] == "a, b", h["x-multi"])
				assert(body == "PUT a.test /p?q=1", body)
				status, h, body = h2_request("` + url + `", nil, "x", 5000, ` + tc.http1 + `)
				assert(body == "POST ` + url[len("http://"):] + ` /" or body:find("^POST "), body)
			`)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Kong's http2_client passes the headers to its h2client tool through a
// shell, which removes their quotes: ['1.1 dev'] arrives as 1.1 dev.
func TestH2RequestHeaderShellQuotes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Header.Get("Via") + "|" + r.Header.Get("X-Q") + "|" + r.Header.Get("X-Plain")))
	}))
	defer srv.Close()
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("h2_request", L.NewFunction(h2Request))
	err := L.DoString(`
		local status, h, body = h2_request("` + srv.URL + `", { via = [['1.1 dev']], ["x-q"] = [["a b"c\"d]],
			["x-plain"] = "1.1 kong" }, nil, 5000, true)
		assert(body == [[1.1 dev|a bc"d|1.1 kong]], body)
	`)
	if err != nil {
		t.Fatal(err)
	}
}

// A response's headers as lua-resty-http gives them: Transfer-Encoding
// and Trailer as they came (Go's client moves them out of the header).
func TestResponseToLuaKeepsTransferEncodingAndTrailer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "Expires")
		w.WriteHeader(200)
		w.Write([]byte("hello"))
		w.(http.Flusher).Flush()
		w.Header().Set("Expires", "never")
	}))
	defer srv.Close()
	L := lua.NewState()
	defer L.Close()
	res, err := http.Get(srv.URL)
	_, h, ok := responseToLua(L, res, err, false)
	if !ok {
		t.Fatal(L.Get(-1))
	}
	if te, tr := h.RawGetString("transfer-encoding"), h.RawGetString("trailer"); te.String() != "chunked" || tr.String() != "Expires" {
		t.Errorf("transfer-encoding %v, trailer %v", te, tr)
	}
}
