package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/dnsclient/dnstest"
)

// The node's DNS client follows dns_resolver, dns_hostsfile and dns_order.
func TestNewDNSFromConf(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeSRV, "svc.test. 30 IN SRV 10 5 8081 svc.test.")
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 30 IN A 10.0.0.1")
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("10.9.9.9 hosted.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := conf.New()
	c.Set("dns_resolver", srv.Addr, "test")
	c.Set("dns_hostsfile", hosts, "test")
	c.Set("dns_order", "a, srv", "test")
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	dns, err := newDNS(c, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dns.Wait)
	ctx := context.Background()
	if ip, port, err := dns.ToIP(ctx, "svc.test", 80, false); err != nil || ip != "10.0.0.1" || port != 80 {
		t.Fatalf("dns_order A,SRV: %s:%d %v, want the A record", ip, port, err)
	}
	if srv.Queries("svc.test", dnsclient.TypeSRV) != 0 {
		t.Fatal("SRV asked though A came first and answered")
	}
	if ip, _, err := dns.ToIP(ctx, "hosted.test", 80, false); err != nil || ip != "10.9.9.9" {
		t.Fatalf("dns_hostsfile: %s %v", ip, err)
	}
}
