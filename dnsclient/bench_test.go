package dnsclient_test

import (
	"context"
	"testing"

	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/dnsclient/dnstest"
)

// BenchmarkToIPCached is a Service host's resolution on the request path
// once cached: a read-locked map lookup and a round-robin step, no
// allocation.
func BenchmarkToIPCached(b *testing.B) {
	srv := dnstest.Start(b)
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 3600 IN A 10.0.0.1", "svc.test. 3600 IN A 10.0.0.2")
	c := srv.Client(b, nil, "")
	ctx := context.Background()
	if _, _, err := c.ToIP(ctx, "svc.test", 80, false); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := c.ToIP(ctx, "svc.test", 80, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestToIPCachedAllocs keeps the cached path free of allocations.
func TestToIPCachedAllocs(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 3600 IN A 10.0.0.1")
	c := srv.Client(t, nil, "")
	ctx := context.Background()
	if _, _, err := c.ToIP(ctx, "svc.test", 80, false); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { c.ToIP(ctx, "svc.test", 80, false) }); n != 0 {
		t.Fatalf("%v allocations per cached ToIP", n)
	}
}
