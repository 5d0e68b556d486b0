package balancer

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luahost/luahost/dnsclient"
)

// Registry holds the balancers of every upstream, by name, replaced whole
// by Rebuild; Balancer reads it without a lock.
type Registry struct {
	// DNS resolves target names, as Kong's DNS client (nil: a client with
	// Kong's defaults, made when a first name is resolved).
	DNS *dnsclient.Client
	// Logger receives health changes and DNS failures (nil: none).
	Logger Logger
	// HTTPClient runs the active checks (nil: one per check type, built
	// on first use).
	HTTPClient func(https, verify bool, sni string) HTTPDoer

	byName atomic.Pointer[map[string]*Balancer]
	ids    atomic.Pointer[map[string]*Balancer]

	mu      sync.Mutex // rebuilds, the DNS state
	byID    map[string]*Balancer
	dns     map[string]*dnsEntry
	used    map[string]bool
	lastUps []map[string]any
	lastTgs []map[string]any
	closed  bool
}

// Logger is what the balancer logs through (slog.Logger has it).
type Logger interface {
	Warn(msg string, args ...any)
}

// Balancer returns the balancer of the upstream named name, nil when no
// upstream has that name.
func (r *Registry) Balancer(name string) *Balancer {
	m := r.byName.Load()
	if m == nil {
		return nil
	}
	return (*m)[name]
}

// ByID returns the balancer of an upstream by id (no lock: a rebuild
// resolving names does not hold the Admin API up).
func (r *Registry) ByID(id string) *Balancer {
	m := r.ids.Load()
	if m == nil {
		return nil
	}
	return (*m)[id]
}

// Rebuild replaces every balancer with one built from these upstreams and
// targets rows (all of them, every workspace): the addresses' health and
// counters carry over, the old active checkers stop and new ones start.
// Names are resolved now, through the DNS cache.
func (r *Registry) Rebuild(ctx context.Context, upstreams, targets []map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastUps, r.lastTgs = upstreams, targets
	r.rebuild(ctx)
}

func (r *Registry) rebuild(ctx context.Context) {
	rows := map[string][]TargetRow{}
	for _, row := range r.lastTgs {
		if t, ok := ParseTarget(row); ok {
			rows[t.UpstreamID] = append(rows[t.UpstreamID], t)
		}
	}
	old := r.byID
	r.used = map[string]bool{}
	r.byID = map[string]*Balancer{}
	byName := map[string]*Balancer{}
	for _, row := range r.lastUps {
		u := ParseUpstream(row)
		if u.ID == "" || u.Name == "" {
			continue
		}
		b := r.build(ctx, u, rows[u.ID], old[u.ID])
		r.byID[u.ID] = b
		byName[u.Name] = b
	}
	r.byName.Store(&byName)
	ids := r.byID
	r.ids.Store(&ids)
	for name := range r.dns { // names no target has any more
		if !r.used[name] {
			delete(r.dns, name)
		}
	}
	for _, b := range old {
		if b.stop != nil {
			b.stop()
		}
	}
	if r.closed {
		return
	}
	for _, b := range r.byID {
		r.startActive(b)
	}
}

func (r *Registry) build(ctx context.Context, u *Upstream, rows []TargetRow, prev *Balancer) *Balancer {
	b := &Balancer{Upstream: u, usingHC: u.UsingHealthchecks(), logger: r.Logger}
	// the newest row of each address (older Kong kept history rows)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].CreatedAt < rows[j].CreatedAt })
	seen := map[string]int{}
	var list []TargetRow
	for _, t := range rows {
		k := hostPort(t.Name, t.Port)
		if i, ok := seen[k]; ok {
			list[i] = t
			continue
		}
		seen[k] = len(list)
		list = append(list, t)
	}
	prevAddr := map[string]*Address{}
	if prev != nil {
		for _, t := range prev.targets {
			for _, a := range t.Addresses {
				prevAddr[a.key()] = a
			}
		}
	}
	for _, tr := range list {
		t := &Target{Name: tr.Name, Port: tr.Port, Weight: tr.Weight}
		var addrs []*Address
		if typ, ok := parseIP(tr.Name); ok {
			t.IsIP, t.DNS = true, typ
			addrs = []*Address{{IP: tr.Name, Port: tr.Port, Weight: tr.Weight}}
		} else {
			r.used[tr.Name] = true
			if b.dns == nil {
				b.dns = r.client()
			}
			t.DNS, addrs = r.resolve(ctx, tr.Name).addresses(tr, u)
		}
		for _, a := range addrs {
			a.target = t
			a.available.Store(true)
			if p := prevAddr[a.key()]; p != nil {
				a.available.Store(p.available.Load())
				p.mu.Lock()
				a.successes, a.httpFailures, a.tcpFailures, a.tos = p.successes, p.httpFailures, p.tcpFailures, p.tos
				p.mu.Unlock()
				prev.lmu.Lock() // latency scores change under their balancer's lock
				a.ewma, a.ewmaAt = p.ewma, p.ewmaAt
				prev.lmu.Unlock()
			}
			t.Addresses = append(t.Addresses, a)
		}
		b.targets = append(b.targets, t)
	}
	for _, t := range b.targets {
		for _, a := range t.Addresses {
			a.peer = Peer{IP: a.IP, Port: a.Port, Hostname: a.hostHeader}
			if u.HostHeader != "" {
				a.peer.Hostname = u.HostHeader
			}
			if a.peer.Hostname == "" {
				a.peer.Hostname = a.IP
			}
			a.peer.HostPort = a.peer.Hostname + ":" + strconv.Itoa(a.Port)
		}
	}
	b.build()
	if u.Algorithm == "latency" {
		b.slowStart()
	}
	return b
}

// slowStart gives an address without a score the mean of the others'
// (latency.lua's calculate_slow_start_ewma).
func (b *Balancer) slowStart() {
	var sum float64
	n := 0
	for _, t := range b.targets {
		for _, a := range t.Addresses {
			if !a.ewmaAt.IsZero() {
				sum += a.ewma
				n++
			}
		}
	}
	if n == 0 {
		return
	}
	now := time.Now()
	for _, t := range b.targets {
		for _, a := range t.Addresses {
			if a.ewmaAt.IsZero() {
				a.ewma, a.ewmaAt = sum/float64(n), now
			}
		}
	}
}

// Run refreshes DNS every second until ctx is done.
func (r *Registry) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.RefreshDNS(ctx)
		}
	}
}

// Close stops every active checker; later rebuilds start none.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, b := range r.byID {
		if b.stop != nil {
			b.stop()
		}
	}
}
