package balancer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/dnsclient/dnstest"
)

func upRow(id, name string, extra map[string]any) map[string]any {
	r := map[string]any{"id": id, "name": name, "algorithm": "round-robin", "hash_on": "none",
		"hash_fallback": "none", "slots": float64(10000)}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

func tgRow(up, target string, weight int) map[string]any {
	return map[string]any{"id": up + "-" + target, "target": target, "weight": float64(weight),
		"upstream": map[string]any{"id": up}, "created_at": float64(1)}
}

func build(t *testing.T, dns *dnsclient.Client, up map[string]any, targets ...map[string]any) (*Registry, *Balancer) {
	t.Helper()
	r := &Registry{DNS: dns}
	t.Cleanup(r.Close)
	r.Rebuild(context.Background(), []map[string]any{up}, targets)
	b := r.Balancer(up["name"].(string))
	if b == nil {
		t.Fatal("no balancer for", up["name"])
	}
	return r, b
}

func pick(t *testing.T, b *Balancer, hash string) (Peer, *Handle) {
	t.Helper()
	h := &Handle{}
	p, err := b.Pick(h, hash)
	if err != nil {
		t.Fatalf("pick: %v", err)
	}
	return p, h
}

func TestRoundRobinWeights(t *testing.T) {
	_, b := build(t, nil, upRow("u1", "up", nil),
		tgRow("u1", "10.0.0.1:80", 10), tgRow("u1", "10.0.0.2:80", 20), tgRow("u1", "10.0.0.3:80", 30),
		tgRow("u1", "10.0.0.4:80", 0))
	if len(b.wheel) != 6 {
		t.Fatalf("wheel of %d slots, want 6 (weights / gcd 10)", len(b.wheel))
	}
	// two turns of the wheel: each address exactly as often as its weight says
	got := map[string]int{}
	for i := 0; i < 12; i++ {
		p, h := pick(t, b, "")
		got[p.IP]++
		h.Release(0)
	}
	want := map[string]int{"10.0.0.1": 2, "10.0.0.2": 4, "10.0.0.3": 6}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("picks %v, want %v (weight 0 never)", got, want)
	}
}

func TestRoundRobinRetryMovesOn(t *testing.T) {
	_, b := build(t, nil, upRow("u1", "up", nil), tgRow("u1", "10.0.0.1:80", 100), tgRow("u1", "10.0.0.2:80", 100))
	h := &Handle{}
	p1, _ := b.Pick(h, "")
	p2, err := b.Pick(h, "")
	if err != nil || p1.IP == p2.IP || h.Retries != 1 {
		t.Fatalf("retry picked %v then %v (%v), retries %d", p1, p2, err, h.Retries)
	}
}

func TestConsistentHashing(t *testing.T) {
	up := upRow("u1", "up", map[string]any{"algorithm": "consistent-hashing", "hash_on": "header", "hash_on_header": "x-key"})
	three := []map[string]any{tgRow("u1", "10.0.0.1:80", 100), tgRow("u1", "10.0.0.2:80", 100), tgRow("u1", "10.0.0.3:80", 100)}
	_, b := build(t, nil, up, three...)
	before := map[string]string{}
	spread := map[string]int{}
	for i := 0; i < 300; i++ {
		k := "key-" + strconv.Itoa(i)
		p, _ := pick(t, b, k)
		before[k] = p.IP
		spread[p.IP]++
		if again, _ := pick(t, b, k); again.IP != p.IP {
			t.Fatalf("%s went to %s then %s", k, p.IP, again.IP)
		}
	}
	if len(spread) != 3 {
		t.Fatalf("300 keys over %v", spread)
	}
	// without the third target only its keys move
	_, b2 := build(t, nil, up, three[:2]...)
	moved := 0
	for k, ip := range before {
		p, _ := pick(t, b2, k)
		if ip != "10.0.0.3" && p.IP != ip {
			t.Fatalf("%s moved from %s to %s though its target stayed", k, ip, p.IP)
		}
		if ip == "10.0.0.3" {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no key was on the removed target")
	}
}

func TestPassiveHealth(t *testing.T) {
	hc := map[string]any{"passive": map[string]any{
		"unhealthy": map[string]any{"tcp_failures": float64(2), "http_failures": float64(1), "http_statuses": []any{float64(500)}},
		"healthy":   map[string]any{"successes": float64(1), "http_statuses": []any{float64(200)}},
	}}
	_, b := build(t, nil, upRow("u1", "up", map[string]any{"healthchecks": hc}),
		tgRow("u1", "10.0.0.1:80", 100), tgRow("u1", "10.0.0.2:80", 100))
	var bad *Address
	for _, tg := range b.Targets() {
		if tg.Name == "10.0.0.1" {
			bad = tg.Addresses[0]
		}
	}
	h := &Handle{b: b, addr: bad}
	h.Report(TCPFailure, 0)
	if !bad.Available() {
		t.Fatal("unhealthy after 1 of 2 tcp failures")
	}
	h.Report(TCPFailure, 0)
	if bad.Available() {
		t.Fatal("still healthy after 2 tcp failures")
	}
	for i := 0; i < 10; i++ {
		if p, h := pick(t, b, ""); p.IP == "10.0.0.1" {
			t.Fatal("picked the unhealthy address")
		} else {
			h.Release(0)
		}
	}
	// a status not in the healthy list does not count; 200 does
	h.Report(HTTPStatus, 404)
	if bad.Available() {
		t.Fatal("404 counted as a success")
	}
	h.Report(HTTPStatus, 200)
	if !bad.Available() {
		t.Fatal("not healthy after 1 success")
	}
	// both down: the balancer is unhealthy
	h.Report(HTTPStatus, 500)
	h2 := &Handle{b: b, addr: b.Targets()[1].Addresses[0]}
	h2.Report(HTTPStatus, 500)
	if _, err := b.Pick(&Handle{}, ""); !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("pick with every address down: %v", err)
	}
	health := b.BalancerHealth()
	if health["health"] != "UNHEALTHY" || health["balancer_health"] != "UNHEALTHY" {
		t.Fatalf("balancer health %v", health)
	}
}

func TestHealthSurvivesRebuild(t *testing.T) {
	hc := map[string]any{"passive": map[string]any{"unhealthy": map[string]any{"tcp_failures": float64(1)}}}
	up := upRow("u1", "up", map[string]any{"healthchecks": hc})
	r, b := build(t, nil, up, tgRow("u1", "10.0.0.1:80", 100), tgRow("u1", "10.0.0.2:80", 100))
	(&Handle{b: b, addr: b.Targets()[0].Addresses[0]}).Report(TCPFailure, 0)
	r.Rebuild(context.Background(), []map[string]any{up},
		[]map[string]any{tgRow("u1", "10.0.0.1:80", 100), tgRow("u1", "10.0.0.2:80", 100), tgRow("u1", "10.0.0.3:80", 100)})
	b2 := r.Balancer("up")
	if b2 == b || b2.Targets()[0].Addresses[0].Available() || !b2.Targets()[2].Addresses[0].Available() {
		t.Fatal("health lost on rebuild")
	}
}

func TestLeastConnections(t *testing.T) {
	_, b := build(t, nil, upRow("u1", "up", map[string]any{"algorithm": "least-connections"}),
		tgRow("u1", "10.0.0.1:80", 100), tgRow("u1", "10.0.0.2:80", 100))
	p1, h1 := pick(t, b, "")
	p2, h2 := pick(t, b, "")
	if p1.IP == p2.IP {
		t.Fatalf("two requests in flight on %s", p1.IP)
	}
	h1.Release(0)
	p3, _ := pick(t, b, "")
	if p3.IP != p1.IP {
		t.Fatalf("after the first ended the pick went to %s, not the idle %s", p3.IP, p1.IP)
	}
	h2.Release(0)
}

func TestLatency(t *testing.T) {
	_, b := build(t, nil, upRow("u1", "up", map[string]any{"algorithm": "latency"}),
		tgRow("u1", "10.0.0.1:80", 100), tgRow("u1", "10.0.0.2:80", 100))
	// a slow answer from one: the next picks go to the other
	p, h := pick(t, b, "")
	h.Release(2e9)
	for i := 0; i < 5; i++ {
		q, hq := pick(t, b, "")
		if q.IP == p.IP {
			t.Fatalf("picked the slow %s", p.IP)
		}
		hq.Release(1e6)
	}
}

func TestDNSNames(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 30 IN A 10.0.0.8", "svc.test. 30 IN A 10.0.0.7")
	dns := srv.Client(t, nil, "")
	_, b := build(t, dns, upRow("u1", "up", nil), tgRow("u1", "svc.test:8080", 100), tgRow("u1", "gone.test:80", 100))
	got := map[string]bool{}
	for i := 0; i < 4; i++ {
		p, _ := pick(t, b, "")
		if p.Hostname != "svc.test" || p.Port != 8080 {
			t.Fatalf("peer %+v: want the target's name as host", p)
		}
		got[p.IP] = true
	}
	if !got["10.0.0.7"] || !got["10.0.0.8"] {
		t.Fatalf("addresses used %v", got)
	}
	if h, st := b.TargetHealth("gone.test:80"); h != "DNS_ERROR" || st["dns"] != "dns server error: 3 name error" {
		t.Fatalf("unresolvable target: %s %v", h, st["dns"])
	}
	if h, st := b.TargetHealth("svc.test:8080"); h != "HEALTHCHECKS_OFF" || st["dns"] != "A" || len(st["addresses"].([]any)) != 2 {
		t.Fatalf("resolved target: %s %v", h, st)
	}
	// host_header wins
	_, b2 := build(t, dns, upRow("u2", "up2", map[string]any{"host_header": "front.test"}), tgRow("u2", "svc.test:8080", 100))
	if p, _ := pick(t, b2, ""); p.Hostname != "front.test" {
		t.Fatalf("host_header not used: %+v", p)
	}
}

// A target whose name has SRV records gets one address per record of the
// lowest priority, with the record's port and the record's weight in place
// of the target's (targets.lua, balancers.lua addAddress); a record's
// target name is resolved at each pick; use_srv_name sends it as Host.
func TestSRVTarget(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeSRV,
		"svc.test. 30 IN SRV 10 10 8081 a.test.",
		"svc.test. 30 IN SRV 10 30 8082 b.test.",
		"svc.test. 30 IN SRV 10 0 0 c.test.",
		"svc.test. 30 IN SRV 20 100 8083 d.test.")
	for name, ip := range map[string]string{"a.test": "10.0.0.1", "b.test": "10.0.0.2", "c.test": "10.0.0.3", "d.test": "10.0.0.4"} {
		srv.Set(name, dnsclient.TypeA, name+". 30 IN A "+ip)
	}
	dns := srv.Client(t, nil, "")
	_, b := build(t, dns, upRow("u1", "up", nil), tgRow("u1", "svc.test:9000", 100))
	h, st := b.TargetHealth("svc.test:9000")
	if h != "HEALTHCHECKS_OFF" || st["dns"] != "SRV" {
		t.Fatalf("SRV target: %s %v", h, st)
	}
	var addrs []string
	for _, a := range st["addresses"].([]any) {
		m := a.(map[string]any)
		addrs = append(addrs, fmt.Sprintf("%v:%v/%v", m["ip"], m["port"], m["weight"]))
	}
	if got := strings.Join(addrs, " "); got != "a.test:8081/10 b.test:8082/30 c.test:9000/1" {
		t.Fatalf("addresses %s", got)
	}
	got := map[string]int{}
	for i := 0; i < 41; i++ {
		p, hd := pick(t, b, "")
		if p.Hostname != "svc.test" {
			t.Fatalf("Host %q, want the target's name", p.Hostname)
		}
		got[fmt.Sprintf("%s:%d", p.IP, p.Port)]++
		hd.Release(0)
	}
	if got["10.0.0.1:8081"] != 10 || got["10.0.0.2:8082"] != 30 || got["10.0.0.3:9000"] != 1 {
		t.Fatalf("picks %v: want the SRV weights 10:30:1, priority 20 never", got)
	}
	_, b2 := build(t, dns, upRow("u2", "up2", map[string]any{"use_srv_name": true}), tgRow("u2", "svc.test:9000", 100))
	for i := 0; i < 5; i++ {
		if p, _ := pick(t, b2, ""); p.Hostname+":"+strconv.Itoa(p.Port) != p.HostPort || !strings.HasSuffix(p.Hostname, ".test") || p.Hostname == "svc.test" {
			t.Fatalf("use_srv_name: %+v", p)
		}
	}
}

// A target of TTL 0 is a "virtual SRV": its name is resolved at each
// pick, so a changed answer is used as soon as the DNS client has it.
func TestTTL0Target(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 0 IN A 10.0.0.1")
	clk := dnstest.NewClock()
	dns := srv.Client(t, clk, "")
	_, b := build(t, dns, upRow("u1", "up", nil), tgRow("u1", "svc.test:80", 100))
	if _, st := b.TargetHealth("svc.test:80"); st["dns"] != "ttl=0, virtual SRV" {
		t.Fatalf("dns %v", st["dns"])
	}
	if p, _ := pick(t, b, ""); p.IP != "10.0.0.1" || p.Port != 80 || p.Hostname != "svc.test" {
		t.Fatalf("peer %+v", p)
	}
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 0 IN A 10.0.0.2")
	clk.Add(time.Millisecond)
	pick(t, b, "") // the stale answer, and a refresh
	dns.Wait()
	if p, _ := pick(t, b, ""); p.IP != "10.0.0.2" {
		t.Fatalf("after the refresh: %+v", p)
	}
}

func TestNoTargets(t *testing.T) {
	_, b := build(t, nil, upRow("u1", "up", nil))
	if _, err := b.Pick(&Handle{}, ""); !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("pick with no targets: %v", err)
	}
}

// The registry asks again for a name when its TTL ran out: the stale
// answer first (no rebuild), then the refreshed one (a rebuild); a name
// that went away leaves its target without addresses.
func TestDNSRefresh(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 30 IN A 10.0.0.1")
	clk := dnstest.NewClock()
	dns := srv.Client(t, clk, "")
	r := &Registry{DNS: dns}
	t.Cleanup(r.Close)
	ctx := context.Background()
	r.Rebuild(ctx, []map[string]any{upRow("u1", "up", nil)}, []map[string]any{tgRow("u1", "svc.test:80", 100)})
	before := r.Balancer("up")
	srv.Set("svc.test", dnsclient.TypeA, "svc.test. 30 IN A 10.0.0.2")
	clk.Add(20 * time.Second)
	r.RefreshDNS(ctx) // not due
	if r.Balancer("up") != before || srv.Queries("svc.test", dnsclient.TypeA) != 1 {
		t.Fatal("asked again within the TTL")
	}
	clk.Add(11 * time.Second)
	r.RefreshDNS(ctx) // due: the stale answer, a refresh under way
	if r.Balancer("up") != before {
		t.Fatal("rebuilt on the stale answer")
	}
	dns.Wait()
	clk.Add(time.Second)
	r.RefreshDNS(ctx)
	if p, _ := pick(t, r.Balancer("up"), ""); p.IP != "10.0.0.2" {
		t.Fatalf("after the name moved: %+v", p)
	}
	srv.Set("svc.test", dnsclient.TypeA)
	for i := 0; i < 3; i++ {
		clk.Add(31 * time.Second)
		r.RefreshDNS(ctx)
		dns.Wait()
	}
	if h, st := r.Balancer("up").TargetHealth("svc.test:80"); h != "DNS_ERROR" || !strings.HasPrefix(str(st["dns"]), "dns ") {
		t.Fatalf("after the name went: %s %v", h, st)
	}
}

// An SRV record's target that does not resolve fails the pick with the
// DNS error (Kong's getPeer returns it; the proxy answers 500), not
// "No peers are available".
func TestSRVTargetUnresolvable(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeSRV, "svc.test. 30 IN SRV 10 10 8081 gone.test.")
	_, b := build(t, srv.Client(t, nil, ""), upRow("u1", "up", nil), tgRow("u1", "svc.test:80", 100))
	_, err := b.Pick(&Handle{}, "")
	if err == nil || errors.Is(err, ErrNoPeers) || err.Error() != "dns server error: 3 name error" {
		t.Fatalf("pick: %v", err)
	}
}
