package dnsclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/dnsclient/dnstest"
)

type clock = dnstest.Clock

func newClock() *clock { return dnstest.NewClock() }

func newClient(t *testing.T, srv *dnstest.Server, clk *clock, hosts string, edit ...func(*dnsclient.Config)) *dnsclient.Client {
	return srv.Client(t, clk, hosts, edit...)
}

func toIP(t *testing.T, c *dnsclient.Client, name string, port int) (string, int) {
	t.Helper()
	ip, p, err := c.ToIP(context.Background(), name, port, false)
	if err != nil {
		t.Fatalf("toip %s: %v", name, err)
	}
	return ip, p
}

// An SRV record is tried first (dns_order LAST,SRV,A,CNAME): its target's
// address with its port; a name without one gets its A record and the
// port asked for; answers are cached for their TTL.
func TestSRVThenA(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("_http._tcp.svc.test", dnsclient.TypeSRV, "_http._tcp.svc.test. 30 IN SRV 10 5 8081 web.svc.test.")
	srv.Set("web.svc.test", dnsclient.TypeA, "web.svc.test. 30 IN A 10.0.0.5")
	srv.Set("plain.test", dnsclient.TypeA, "plain.test. 30 IN A 10.0.0.7")
	c := newClient(t, srv, newClock(), "")
	if ip, port := toIP(t, c, "_http._tcp.svc.test", 80); ip != "10.0.0.5" || port != 8081 {
		t.Fatalf("SRV name: %s:%d, want the target's address and the record's port", ip, port)
	}
	if ip, port := toIP(t, c, "plain.test", 80); ip != "10.0.0.7" || port != 80 {
		t.Fatalf("A name: %s:%d", ip, port)
	}
	if n := srv.Queries("plain.test", dnsclient.TypeSRV); n != 1 {
		t.Fatalf("SRV queries for an A name: %d, want 1 (SRV comes first)", n)
	}
	// the SRV's target came in the additional section: no A query for it
	if n := srv.Queries("web.svc.test", dnsclient.TypeA); n != 0 {
		t.Fatalf("A queries for the SRV target: %d", n)
	}
	for i := 0; i < 3; i++ {
		toIP(t, c, "plain.test", 80)
		toIP(t, c, "_http._tcp.svc.test", 80)
	}
	if srv.Queries("plain.test", dnsclient.TypeA) != 1 || srv.Queries("_http._tcp.svc.test", dnsclient.TypeSRV) != 1 {
		t.Fatal("a cached answer was asked again within its TTL")
	}
}

// Only the lowest priority's SRV records are used, each as often as its
// weight (in every full round); a record's port 0 keeps the port asked
// for.
func TestSRVWeightsPriorityPort(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeSRV,
		"svc.test. 30 IN SRV 10 10 0 a.test.",
		"svc.test. 30 IN SRV 10 30 0 b.test.",
		"svc.test. 30 IN SRV 20 100 0 c.test.")
	srv.Set("a.test", dnsclient.TypeA, "a.test. 30 IN A 10.0.0.1")
	srv.Set("b.test", dnsclient.TypeA, "b.test. 30 IN A 10.0.0.2")
	srv.Set("c.test", dnsclient.TypeA, "c.test. 30 IN A 10.0.0.3")
	c := newClient(t, srv, newClock(), "")
	got := map[string]int{}
	for i := 0; i < 40; i++ {
		ip, port := toIP(t, c, "svc.test", 9000)
		if port != 9000 {
			t.Fatalf("port %d: a record's port 0 keeps the one asked for", port)
		}
		got[ip]++
	}
	if got["10.0.0.1"] != 10 || got["10.0.0.2"] != 30 || got["10.0.0.3"] != 0 {
		t.Fatalf("picks %v, want 10 and 30 (weights 10:30) and none of priority 20", got)
	}
}

// A record whose TTL ran out is served stale while it is queried again in
// the background; the next lookup after the refresh gets the new answer.
func TestTTLExpiryStaleThenRefreshed(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 30 IN A 10.0.0.1")
	clk := newClock()
	c := newClient(t, srv, clk, "")
	if ip, _ := toIP(t, c, "svc.test", 80); ip != "10.0.0.1" {
		t.Fatal(ip)
	}
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 30 IN A 10.0.0.2")
	clk.Add(29 * time.Second)
	if ip, _ := toIP(t, c, "svc.test", 80); ip != "10.0.0.1" || srv.Queries("svc.test", dnsclient.TypeA) != 1 {
		t.Fatalf("within the TTL: %s, %d queries", ip, srv.Queries("svc.test", dnsclient.TypeA))
	}
	clk.Add(2 * time.Second)
	if ip, _ := toIP(t, c, "svc.test", 80); ip != "10.0.0.1" {
		t.Fatalf("expired: %s, want the stale answer while refreshing", ip)
	}
	c.Wait()
	if ip, _ := toIP(t, c, "svc.test", 80); ip != "10.0.0.2" {
		t.Fatalf("after the refresh: %s", ip)
	}
	// LAST: the name resolved as A, so its refresh asked A only
	if n := srv.Queries("svc.test", dnsclient.TypeSRV); n != 1 {
		t.Fatalf("SRV asked %d times, want once (LAST is A)", n)
	}
}

// A TTL 0 record is stale at once: every lookup serves the last answer and
// asks again.
func TestTTL0(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 0 IN A 10.0.0.1")
	clk := newClock()
	c := newClient(t, srv, clk, "")
	toIP(t, c, "svc.test", 80)
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 0 IN A 10.0.0.2")
	clk.Add(time.Millisecond)
	if ip, _ := toIP(t, c, "svc.test", 80); ip != "10.0.0.1" {
		t.Fatal(ip)
	}
	c.Wait()
	clk.Add(time.Millisecond)
	if ip, _ := toIP(t, c, "svc.test", 80); ip != "10.0.0.2" {
		t.Fatalf("ttl 0: %s after the refresh", ip)
	}
	c.Wait()
	if n := srv.Queries("svc.test", dnsclient.TypeA); n != 3 {
		t.Fatalf("%d A queries, want 3 (one per lookup)", n)
	}
}

// A server failing after a record expired does not replace it: the stale
// record is served for dns_stale_ttl, then the failure is the answer.
func TestStaleKeptOnServerFailure(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 10 IN A 10.0.0.1")
	clk := newClock()
	c := newClient(t, srv, clk, "", func(cfg *dnsclient.Config) { cfg.StaleTTL = 60 * time.Second })
	toIP(t, c, "svc.test", 80)
	srv.Rcode("svc.test", 2)
	for i := 0; i < 3; i++ {
		clk.Add(15 * time.Second)
		if ip, _ := toIP(t, c, "svc.test", 80); ip != "10.0.0.1" {
			t.Fatalf("stale record not served: %s", ip)
		}
		c.Wait()
	}
	clk.Add(60 * time.Second) // past TTL + dns_stale_ttl
	_, _, err := c.ToIP(context.Background(), "svc.test", 80, false)
	var de *dnsclient.Error
	if !errors.As(err, &de) || de.Msg != "dns server error: 2 server failure" || errors.Is(err, dnsclient.ErrNameResolution) {
		t.Fatalf("after the stale TTL: %v", err)
	}
}

// Negative answers are cached: a name error and an empty answer for
// dns_not_found_ttl, another error for dns_error_ttl; then (stale) served
// while asked again.
func TestNegativeCaching(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("v6only.test", dnsclient.TypeAAAA, "v6only.test. 30 IN AAAA ::1")
	clk := newClock()
	c := newClient(t, srv, clk, "", func(cfg *dnsclient.Config) {
		cfg.NotFoundTTL, cfg.ErrorTTL, cfg.StaleTTL = 30*time.Second, 5*time.Second, 0
	})
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		_, _, err := c.ToIP(ctx, "nowhere.test", 80, false)
		if err == nil || err.Error() != "dns server error: 3 name error" || !errors.Is(err, dnsclient.ErrNameResolution) {
			t.Fatalf("unknown name: %v", err)
		}
		// AAAA is not in the default dns_order
		_, _, err = c.ToIP(ctx, "v6only.test", 80, false)
		if err == nil || err.Error() != "dns client error: 101 empty record received" || !errors.Is(err, dnsclient.ErrNameResolution) {
			t.Fatalf("no record of the types tried: %v", err)
		}
		clk.Add(29 * time.Second)
	}
	if srv.Queries("nowhere.test", dnsclient.TypeA) != 1 || srv.Queries("v6only.test", dnsclient.TypeA) != 1 {
		t.Fatal("a negative answer was asked again within dns_not_found_ttl")
	}
	srv.Set("nowhere.test", dnsclient.TypeA, "nowhere.test. 30 IN A 10.0.0.9")
	if ip, _ := toIP(t, c, "nowhere.test", 80); ip != "10.0.0.9" {
		t.Fatalf("after dns_not_found_ttl: %s", ip)
	}

	srv.Rcode("fail.test", 2)
	for i := 0; i < 2; i++ {
		if _, _, err := c.ToIP(ctx, "fail.test", 80, false); err == nil || err.Error() != "dns server error: 2 server failure" {
			t.Fatalf("server failure: %v", err)
		}
	}
	if srv.Queries("fail.test", dnsclient.TypeA) != 1 {
		t.Fatal("a server failure was asked again within dns_error_ttl")
	}
	clk.Add(6 * time.Second)
	c.ToIP(ctx, "fail.test", 80, false)
	if srv.Queries("fail.test", dnsclient.TypeA) != 2 {
		t.Fatal("a server failure was not asked again after dns_error_ttl")
	}
}

// The hosts file's entries answer before any query (their type is the
// name's LAST); localhost is always defined.
func TestHostsFileWins(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeSRV, "svc.test. 30 IN SRV 10 5 8081 web.test.")
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 30 IN A 10.0.0.1")
	c := newClient(t, srv, newClock(), "# comment\n10.9.9.9  svc.test other.test\n10.8.8.8 svc.test\n")
	if ip, port := toIP(t, c, "SVC.test", 80); ip != "10.9.9.9" || port != 80 {
		t.Fatalf("hosts entry: %s:%d", ip, port)
	}
	if ip, _ := toIP(t, c, "localhost", 80); ip != "127.0.0.1" {
		t.Fatalf("localhost: %s", ip)
	}
	if srv.Queries("svc.test", dnsclient.TypeSRV)+srv.Queries("svc.test", dnsclient.TypeA) != 0 {
		t.Fatal("a name of the hosts file was queried")
	}
}

// A CNAME is followed (the A query's answer carries it; the CNAME type
// of dns_order dereferences it); a loop of CNAMEs is a recursion.
func TestCNAME(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("alias.test", dnsclient.TypeCNAME, "alias.test. 30 IN CNAME svc.test.")
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 30 IN A 10.0.0.3")
	srv.Set("a.test", dnsclient.TypeCNAME, "a.test. 30 IN CNAME b.test.")
	srv.Set("b.test", dnsclient.TypeCNAME, "b.test. 30 IN CNAME a.test.")
	c := newClient(t, srv, newClock(), "")
	for i := 0; i < 2; i++ {
		if ip, _ := toIP(t, c, "alias.test", 80); ip != "10.0.0.3" {
			t.Fatalf("CNAME: %s", ip)
		}
	}
	if _, _, err := c.ToIP(context.Background(), "a.test", 80, false); err == nil || err.Error() != "recursion detected" {
		t.Fatalf("CNAME loop: %v", err)
	}
}

// An SRV record pointing at its own name (Kubernetes) is skipped for the
// next type.
func TestSelfSRV(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("pod.test", dnsclient.TypeSRV, "pod.test. 30 IN SRV 10 5 8081 pod.test.")
	srv.Set("pod.test", dnsclient.TypeA, "pod.test. 30 IN A 10.0.0.4")
	c := newClient(t, srv, newClock(), "")
	if ip, port := toIP(t, c, "pod.test", 80); ip != "10.0.0.4" || port != 80 {
		t.Fatalf("self SRV: %s:%d", ip, port)
	}
}

// A short name is searched with the search domains first when it has
// fewer dots than ndots; cache-only lookups make no query.
func TestSearchAndCacheOnly(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("api.corp.test", dnsclient.TypeA, "api.corp.test. 30 IN A 10.0.0.6")
	c := newClient(t, srv, newClock(), "", func(cfg *dnsclient.Config) { cfg.Search = []string{"corp.test"} })
	if _, _, err := c.ToIP(context.Background(), "api", 80, true); err == nil {
		t.Fatal("a cache-only lookup of a name never resolved succeeded")
	}
	if srv.Queries("api.corp.test", dnsclient.TypeSRV) != 0 {
		t.Fatal("a cache-only lookup queried")
	}
	if ip, _ := toIP(t, c, "api", 80); ip != "10.0.0.6" {
		t.Fatalf("search: %s", ip)
	}
	if srv.Queries("api", dnsclient.TypeA) != 0 {
		t.Fatal("the bare name was asked before the search domain")
	}
	if ip, _, err := c.ToIP(context.Background(), "api", 80, true); err != nil || ip != "10.0.0.6" {
		t.Fatalf("cache only, cached: %s %v", ip, err)
	}
}

// A nameserver that does not answer is an error that is not a name
// resolution failure (Kong answers 500 for it, not 503).
func TestNameserverDown(t *testing.T) {
	srv := dnstest.Start(t)
	c := newClient(t, srv, newClock(), "", func(cfg *dnsclient.Config) {
		cfg.Nameservers = []string{"127.0.0.1:1"}
		cfg.Attempts = 1
	})
	_, _, err := c.ToIP(context.Background(), "svc.test", 80, false)
	if err == nil || errors.Is(err, dnsclient.ErrNameResolution) {
		t.Fatalf("nameserver down: %v", err)
	}
	if want := "failed to receive reply from UDP server 127.0.0.1:1: connection refused"; err.Error() != want {
		t.Fatalf("nameserver down: %q, want %q", err, want)
	}
}

func TestParseNameserver(t *testing.T) {
	for in, want := range map[string]string{"8.8.8.8": "8.8.8.8:53", "8.8.8.8:5353": "8.8.8.8:5353",
		"::1": "[::1]:53", "[::1]:54": "[::1]:54", "[2001:db8::1]": "[2001:db8::1]:53"} {
		if got, ok := dnsclient.ParseNameserver(in); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"dns.test", "dns.test:53", "1.2.3", "8.8.8.8:99999", ""} {
		if got, ok := dnsclient.ParseNameserver(bad); ok {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}
