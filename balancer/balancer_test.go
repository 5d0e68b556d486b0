package balancer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeResolver answers from a map; a missing name fails.
type fakeResolver map[string][]string

func (f fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []net.IPAddr
	for _, ip := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(ip)})
	}
	return out, nil
}

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

func build(t *testing.T, res fakeResolver, up map[string]any, targets ...map[string]any) (*Registry, *Balancer) {
	t.Helper()
	r := &Registry{Resolver: res}
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
	res := fakeResolver{"svc.test": {"10.0.0.8", "10.0.0.7"}}
	_, b := build(t, res, upRow("u1", "up", nil), tgRow("u1", "svc.test:8080", 100), tgRow("u1", "gone.test:80", 100))
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
	if h, _ := b.TargetHealth("gone.test:80"); h != "DNS_ERROR" {
		t.Fatalf("unresolvable target: %s", h)
	}
	if h, st := b.TargetHealth("svc.test:8080"); h != "HEALTHCHECKS_OFF" || st["dns"] != "A" || len(st["addresses"].([]any)) != 2 {
		t.Fatalf("resolved target: %s %v", h, st)
	}
	// host_header wins
	_, b2 := build(t, res, upRow("u2", "up2", map[string]any{"host_header": "front.test"}), tgRow("u2", "svc.test:8080", 100))
	if p, _ := pick(t, b2, ""); p.Hostname != "front.test" {
		t.Fatalf("host_header not used: %+v", p)
	}
}

func TestNoTargets(t *testing.T) {
	_, b := build(t, nil, upRow("u1", "up", nil))
	if _, err := b.Pick(&Handle{}, ""); !errors.Is(err, ErrUnhealthy) {
		t.Fatalf("pick with no targets: %v", err)
	}
}

func TestDNSRefresh(t *testing.T) {
	res := fakeResolver{"svc.test": {"10.0.0.1"}}
	r := &Registry{Resolver: res, DNSTTL: time.Nanosecond}
	t.Cleanup(r.Close)
	r.Rebuild(context.Background(), []map[string]any{upRow("u1", "up", nil)}, []map[string]any{tgRow("u1", "svc.test:80", 100)})
	before := r.Balancer("up")
	r.RefreshDNS(context.Background()) // unchanged: the same balancer
	if r.Balancer("up") != before {
		t.Fatal("rebuilt though the name resolved the same")
	}
	res["svc.test"] = []string{"10.0.0.2"}
	r.RefreshDNS(context.Background())
	if p, _ := pick(t, r.Balancer("up"), ""); p.IP != "10.0.0.2" {
		t.Fatalf("after the name moved: %+v", p)
	}
	delete(res, "svc.test")
	r.RefreshDNS(context.Background())
	if h, st := r.Balancer("up").TargetHealth("svc.test:80"); h != "DNS_ERROR" || !strings.Contains(str(st["dns"]), "no such host") {
		t.Fatalf("after the name went: %s %v", h, st)
	}
}
