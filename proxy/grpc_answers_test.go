package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/luahost/luahost/router"
)

// grpcDo sends method url with headers (Host sets the request's) through
// client c.
func grpcDo(t *testing.T, c *http.Client, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader("msg"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func jsonMessage(t *testing.T, body string) string {
	t.Helper()
	var m struct{ Message string }
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %q", body)
	}
	return m.Message
}

// A request on a grpc or grpcs Route (kong/runloop/handler.lua
// access.before): a gRPC one not over HTTP/2 is answered 426 "Please use
// HTTP2 protocol", a non-gRPC one 415, a gRPC one over cleartext on a
// grpcs-only Route 200 with grpc-status 1; a gRPC request over HTTP/2 goes
// on.
func TestGRPCRouteMismatch(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Hosts: []string{"grpc"}, Protocols: []string{"grpc"}, ServiceID: "s1"},
		{ID: "00000000-0000-0000-0000-000000000002", Hosts: []string{"grpcs"}, Protocols: []string{"grpcs"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	h2c := "http://" + startH2Proxy(t, tp)
	h2s := "https://" + tp.tlsAddr
	n := func() int { u.mu.Lock(); defer u.mu.Unlock(); return len(u.got) }

	// HTTP/1.1, real socket: the header names as a client may spell them
	for _, ct := range []string{"content-type: application/grpc", "Content-Type: application/grpc+proto"} {
		before := n()
		res, body := raw(t, tp.addr, "POST / HTTP/1.1\r\nHost: grpc\r\n"+ct+"\r\nContent-Length: 3\r\n\r\nmsg")
		if res.StatusCode != 426 || jsonMessage(t, body) != "Please use HTTP2 protocol" {
			t.Fatalf("%s: %d %q", ct, res.StatusCode, body)
		}
		if res.Header.Get("Upgrade") != "HTTP/2" || !strings.Contains(strings.Join(res.Header.Values("Connection"), ","), "Upgrade") {
			t.Errorf("%s: headers %v", ct, res.Header)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("content-type %q", ct)
		}
		checkKongHeaders(t, res, false)
		if n() != before {
			t.Error("the upstream was called")
		}
	}
	// HTTP/1.1 over TLS on the grpcs Route, the template by Accept
	res, body := grpcDo(t, h1Client(), h2s, map[string]string{"Host": "grpcs", "Content-Type": "application/grpc", "Accept": "text/plain"})
	if res.StatusCode != 426 || !strings.HasPrefix(body, "Please use HTTP2 protocol\nrequest_id: ") || res.Header.Get("Upgrade") != "HTTP/2" {
		t.Errorf("grpcs, HTTP/1.1: %d %q %v", res.StatusCode, body, res.Header)
	}

	// HTTP/2, cleartext and TLS, gRPC: not refused, proxied
	for _, url := range []string{h2c, h2s} {
		host := "grpc"
		if url == h2s {
			host = "grpcs"
		}
		before := n()
		res, body := grpcDo(t, h2Client(), url+"/svc/Method", map[string]string{"Host": host, "Content-Type": "application/grpc"})
		if res.ProtoMajor != 2 || res.StatusCode != 200 || body != "POST /svc/Method msg" || n() != before+1 {
			t.Errorf("%s: %s %d %q", url, res.Proto, res.StatusCode, body)
		}
	}
	// HTTP/2, not gRPC: 415, whatever the version
	for _, c := range []*http.Client{h2Client(), h1Client()} {
		res, body = grpcDo(t, c, h2c, map[string]string{"Host": "grpc", "Content-Type": "application/json"})
		if res.StatusCode != 415 || jsonMessage(t, body) != "Non-gRPC request matched gRPC route" {
			t.Errorf("%s, not gRPC: %d %q", res.Proto, res.StatusCode, body)
		}
	}
	// gRPC over cleartext HTTP/2 on the grpcs Route: exit(200) with Kong's
	// grpc-status 1 and its message kept, no body
	before := n()
	res, body = grpcDo(t, h2Client(), h2c, map[string]string{"Host": "grpcs", "Content-Type": "application/grpc"})
	if res.StatusCode != 200 || body != "" || res.Header.Get("Grpc-Status") != "1" ||
		res.Header.Get("Grpc-Message") != "gRPC request matched gRPCs route" ||
		res.Header.Get("Content-Type") != "application/grpc" || res.Header.Get("Content-Length") != "0" || n() != before {
		t.Errorf("grpcs over h2c: %d %q %v", res.StatusCode, body, res.Header)
	}
}

// Kong's own answers to a gRPC request (HTTP/2, Content-Type
// application/grpc): kong.response.error gives no body, Content-Type
// application/grpc, grpc-status mapped from the status and its default
// grpc-message; the error handler (a failed upstream) puts its message in
// grpc-message. To a request that is not gRPC over HTTP/2, the error
// handler's Accept application/grpc gives the JSON {"message": ...}.
func TestGRPCKongAnswers(t *testing.T) {
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Hosts: []string{"grpc"}, Protocols: []string{"grpc"}, ServiceID: "g"},
		{ID: "00000000-0000-0000-0000-000000000002", Hosts: []string{"http"}, Protocols: []string{"http"}, ServiceID: "g"},
	}, &router.Service{ID: "g", Protocol: "grpc", Host: "127.0.0.1", Port: 1, ConnectTimeout: 2000, ReadTimeout: 2000, WriteTimeout: 2000})
	h2c := "http://" + startH2Proxy(t, tp)
	grpc := map[string]string{"Content-Type": "application/grpc"}

	for _, tc := range []struct {
		name, host           string
		status               int
		grpcStatus, grpcMsg  string
		contentType, message string
	}{
		{"no Route: kong.response.error(404)", "nowhere", 404, "5", "NotFound", "application/grpc", ""},
		{"grpc Service: the error handler's 502", "grpc", 502, "13", "An invalid response was received from the upstream server", "", ""},
	} {
		grpc["Host"] = tc.host
		res, body := grpcDo(t, h2Client(), h2c, grpc)
		if res.ProtoMajor != 2 || res.StatusCode != tc.status || body != "" || res.Header.Get("Grpc-Status") != tc.grpcStatus ||
			res.Header.Get("Grpc-Message") != tc.grpcMsg || res.Header.Get("Content-Length") != "0" {
			t.Errorf("%s: %s %d %q %v", tc.name, res.Proto, res.StatusCode, body, res.Header)
		}
		if got := res.Header.Values("Content-Type"); strings.Join(got, ",") != tc.contentType {
			t.Errorf("%s: Content-Type %q, want %q", tc.name, got, tc.contentType)
		}
		if tc.status == 404 {
			checkKongHeaders(t, res, false)
		}
	}
	// not gRPC (HTTP/1.1), Accept application/grpc: the table JSON-encoded
	res, body := grpcDo(t, h1Client(), h2c, map[string]string{"Host": "http", "Accept": "application/grpc"})
	if res.StatusCode != 502 || body != `{"message":"An invalid response was received from the upstream server"}` ||
		res.Header.Get("Content-Type") != "application/json; charset=utf-8" || res.Header.Get("Grpc-Status") != "" {
		t.Errorf("Accept application/grpc over HTTP/1.1: %d %q %v", res.StatusCode, body, res.Header)
	}
	// kong.response.error(404) to it: the template Accept application/grpc
	// selects (MIME type "", template ""): no body, no Content-Type
	res, body = grpcDo(t, h1Client(), h2c, map[string]string{"Host": "nowhere", "Accept": "application/grpc"})
	if res.StatusCode != 404 || body != "" || res.Header.Get("Content-Type") != "" || res.Header.Get("Grpc-Status") != "" {
		t.Errorf("404, Accept application/grpc over HTTP/1.1: %d %q %v", res.StatusCode, body, res.Header)
	}
}
