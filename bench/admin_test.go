package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/admin"
	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
	"github.com/luahost/luahost/proxy"
)

// BenchmarkAdminAPI: one entity GET (by endpoint key) and one POST
// (insert) through the Admin API over a real socket, on the embedded store
// and on PostgreSQL.
func BenchmarkAdminAPI(b *testing.B) {
	for _, store := range hosttest.Strategies {
		b.Run(store, func(b *testing.B) {
			c := conf.New()
			c.Set("plugins_dir", "../plugins", "test")
			c.Set("lua_package_path", "", "test")
			c.Set("mem_cache_size", "16m", "test")
			c.Set("database", store, "test")
			if store == "postgres" {
				hosttest.UsePostgres(b, c)
			}
			h, err := host.New(host.Options{Conf: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			s, err := admin.New(admin.Options{Host: h})
			if err != nil {
				b.Fatal(err)
			}
			ls, _ := proxy.ParseListen("admin_listen", "127.0.0.1:0")
			if err := s.Listen(ls); err != nil {
				b.Fatal(err)
			}
			go s.Serve()
			defer s.Shutdown(context.Background())
			client := &fasthttp.HostClient{Addr: s.Addrs[0].String(), MaxConns: 64}
			send := func(method, path, body string, want int) {
				req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(res)
				req.Header.SetMethod(method)
				req.SetRequestURI("http://" + client.Addr + path)
				if body != "" {
					req.Header.SetContentType("application/json")
					req.SetBodyString(body)
				}
				if err := client.Do(req, res); err != nil {
					b.Fatal(err)
				}
				if res.StatusCode() != want {
					b.Fatalf("%s %s: %d %s", method, path, res.StatusCode(), res.Body())
				}
			}
			send("POST", "/consumers", `{"username":"bench"}`, 201)
			b.Run("GET_entity", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					send("GET", "/consumers/bench", "", 200)
				}
			})
			b.Run("POST_entity", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					send("POST", "/consumers", fmt.Sprintf(`{"username":"u%d-%d"}`, b.N, i), 201)
				}
			})
		})
	}
}
