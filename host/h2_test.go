package host

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/luahost/luahost/proxy"
)

// A plugin sees an HTTP/2 request as Kong's does: http_version 2,
// $server_protocol HTTP/2.0, $http2 h2 (TLS) or h2c (cleartext), in access
// and in log; HTTP/1.1 on the same entries as before.
func TestPluginSeesHTTP2(t *testing.T) {
	def, err := proxy.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	n := newRLNodeWith(t, testConf(t, "testdata/h2"), proxy.Config{GetCertificate: proxy.NewCertificates(def, nil).GetCertificate})
	n.route(t, "/")
	n.plugin(t, "proto-echo", nil, map[string]any{})
	n.sync(t)
	ls, err := proxy.ParseListen("proxy_listen", "127.0.0.1:0 http2, 127.0.0.1:0 http2 ssl")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := n.p.Listen(ls)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	client := func(h2 bool) *http.Client {
		var ps http.Protocols
		if h2 {
			ps.SetHTTP2(true)
			ps.SetUnencryptedHTTP2(true)
		} else {
			ps.SetHTTP1(true)
		}
		return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
			Protocols: &ps, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	}
	for _, tc := range []struct {
		url  string
		h2   bool
		want string
	}{
		{"http://" + srv.Addrs[0].String(), true, "2 2 HTTP/2.0 h2c http"},
		{"https://" + srv.Addrs[1].String(), true, "2 2 HTTP/2.0 h2 https"},
		{"http://" + srv.Addrs[0].String(), false, "1.1 1.1 HTTP/1.1  http"},
		{"https://" + srv.Addrs[1].String(), false, "1.1 1.1 HTTP/1.1  https"},
	} {
		n.h.Root.SharedDict("kong").Delete("proto-log")
		res, err := client(tc.h2).Get(tc.url + "/p")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %d %q %v", tc.url, res.StatusCode, body, err)
		}
		if got := res.Header.Get("X-Proto"); got != tc.want {
			t.Errorf("%s (h2 %v) access: %q, want %q", tc.url, tc.h2, got, tc.want)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			v, _ := n.h.Root.SharedDict("kong").Get("proto-log")
			if s, _ := v.(string); s != "" {
				if s != tc.want {
					t.Errorf("%s (h2 %v) log: %q, want %q", tc.url, tc.h2, s, tc.want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the log phase did not run", tc.url)
			}
			time.Sleep(time.Millisecond)
		}
	}
}
