package proxy

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/luahost/luahost/router"
)

// grpcEcho is a gRPC-like upstream over HTTP/2: it echoes each line of
// the request body as it comes (flushed), then ends with trailers.
func grpcEcho(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/grpc")
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	w.Header().Set("X-Proto", r.Proto+" "+r.Header.Get("Te")+" "+r.Host+" "+r.URL.RequestURI())
	if r.URL.Path == "/only-headers" {
		w.Header().Set("Grpc-Status", "5")
		w.WriteHeader(200)
		return
	}
	w.WriteHeader(200)
	w.(http.Flusher).Flush()
	br := bufio.NewReader(r.Body)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			io.WriteString(w, "echo:"+line)
			w.(http.Flusher).Flush()
		}
		if err != nil {
			break
		}
	}
	w.Header().Set("Grpc-Status", "0")
	w.Header().Set("Grpc-Message", "done")
}

func grpcUpstream(t *testing.T, tlsOn bool) int {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(grpcEcho))
	var ps http.Protocols
	if tlsOn {
		ps.SetHTTP2(true)
		srv.EnableHTTP2 = true
		srv.Config.Protocols = &ps
		srv.StartTLS()
	} else {
		ps.SetUnencryptedHTTP2(true)
		srv.Config.Protocols = &ps
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

// A gRPC call through an HTTP/2 entry: both ways streamed (each message
// answered before the next is sent), the upstream reached over HTTP/2
// (grpc cleartext, grpcs TLS), the trailers passed on.
func TestGRPCService(t *testing.T) {
	for _, scheme := range []string{"grpc", "grpcs"} {
		t.Run(scheme, func(t *testing.T) {
			port := grpcUpstream(t, scheme == "grpcs")
			s := svc("s1", port)
			s.Protocol = scheme
			tp := startProxy(t, Config{}, []router.Route{
				{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
			}, s)
			rec := &recorder{logged: make(chan struct{}, 1)}
			tp.p.Phases = rec
			pr, pw := io.Pipe()
			req, err := http.NewRequest("POST", "https://"+tp.tlsAddr+"/pkg.Svc/Call?x=1", pr)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/grpc")
			res, err := h2Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if res.ProtoMajor != 2 || res.StatusCode != 200 {
				t.Fatalf("%s %d", res.Proto, res.StatusCode)
			}
			if got, want := res.Header.Get("X-Proto"), "HTTP/2.0 trailers localhost /pkg.Svc/Call?x=1"; !strings.HasPrefix(got, "HTTP/2.0 trailers ") || !strings.HasSuffix(got, " /pkg.Svc/Call?x=1") {
				t.Errorf("upstream saw %q, want like %q", got, want)
			}
			if v := res.Header.Get("Via"); v != "2 kong/3.9.1" {
				t.Errorf("Via %q", v)
			}
			br := bufio.NewReader(res.Body)
			for _, msg := range []string{"one\n", "two\n"} {
				io.WriteString(pw, msg)
				got, err := br.ReadString('\n')
				if err != nil || got != "echo:"+msg {
					t.Fatalf("answer to %q: %q %v", msg, got, err)
				}
			}
			pw.Close()
			rest, err := io.ReadAll(br)
			res.Body.Close()
			if err != nil || len(rest) != 0 {
				t.Errorf("rest %q %v", rest, err)
			}
			if res.Trailer.Get("Grpc-Status") != "0" || res.Trailer.Get("Grpc-Message") != "done" {
				t.Errorf("trailers %v", res.Trailer)
			}
			if got := rec.take(); !strings.HasPrefix(got, "rewrite:/pkg.Svc/Call?x=1 access:/pkg.Svc/Call?x=1") || !strings.HasSuffix(got, "log:/pkg.Svc/Call?x=1") || strings.Count(got, "body_filter") < 3 {
				t.Errorf("calls: %s", got)
			}
			// a trailers-only answer: grpc-status in the headers
			tp.p.Phases = nil
			res, err = h2Client().Post("https://"+tp.tlsAddr+"/only-headers", "application/grpc", nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.Header.Get("Grpc-Status") != "5" {
				t.Errorf("trailers-only: %v %v", res.Header, res.Trailer)
			}
		})
	}
}

// A gRPC upstream gets the client's path whatever the Route's strip_path
// and the Service's path (nginx's grpc_pass sends the request's URI): a
// Route by path prefix, "/pkg.Svc/" with strip_path on, reaches
// /pkg.Svc/Call.
func TestGRPCPathAsSent(t *testing.T) {
	port := grpcUpstream(t, false)
	s := svc("s1", port)
	s.Protocol = "grpc"
	s.Path = "/base"
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/pkg.Svc/"}, StripPath: true, ServiceID: "s1"},
	}, s)
	h2c := startH2Proxy(t, tp)
	res, _ := get(t, h2Client(), "POST", "http://"+h2c+"/pkg.Svc/only-headers?x=1", "")
	if got := res.Header.Get("X-Proto"); !strings.HasSuffix(got, " /pkg.Svc/only-headers?x=1") {
		t.Errorf("upstream saw %q", got)
	}
}

// An unreachable gRPC upstream is Kong's 502.
func TestGRPCServiceDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := svc("s1", port)
	s.Protocol = "grpc"
	s.Retries = 0
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, s)
	res, body := get(t, h2Client(), "POST", "https://"+tp.tlsAddr+"/x", "")
	if res.StatusCode != 502 {
		t.Errorf("%d %q", res.StatusCode, body)
	}
}

// A gRPC status in a response's headers (Kong's own answer to a gRPC
// client, an upstream's trailers-only response) reaches an HTTP/2 client
// as a trailers-only response: one HEADERS frame ending the stream, which
// a gRPC client reads as the call's status. Headers sent first and an
// empty DATA frame ending the stream would be a stream "closed without
// sending trailers" (Internal).
func TestGRPCStatusInHeadersIsTrailersOnly(t *testing.T) {
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", "9")
		w.Header().Set("Grpc-Message", "upstream says no")
		w.WriteHeader(200)
	}))
	var ps http.Protocols
	ps.SetUnencryptedHTTP2(true)
	up.Config.Protocols = &ps
	up.Start()
	t.Cleanup(up.Close)
	s := svc("s1", up.Listener.Addr().(*net.TCPAddr).Port)
	s.Protocol = "grpc"
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/upstream."}, ServiceID: "s1"},
	}, s)
	h2c := startH2Proxy(t, tp)
	cc, err := grpc.NewClient(h2c, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	for method, want := range map[string]string{
		"/hello.HelloService/SayHello": "rpc error: code = NotFound desc = NotFound", // no Route
		"/upstream.S/M":                "rpc error: code = FailedPrecondition desc = upstream says no",
	} {
		var md metadata.MD
		err = cc.Invoke(context.Background(), method, &emptypb.Empty{}, &emptypb.Empty{}, grpc.Trailer(&md))
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", method, err, want)
		}
		if got := md.Get("server"); method[1] == 'h' && (len(got) != 1 || !strings.HasPrefix(got[0], "kong/")) {
			t.Errorf("%s: trailers %v", method, md)
		}
	}
}
