package balancer

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/luahost/luahost/dnsclient"
)

// Kong's balancer DNS intervals (kong/runloop/balancer/balancers.lua,
// targets.lua).
const (
	requeryInterval = 30 * time.Second       // REQUERY_INTERVAL: a failed query is asked again after
	ttl0Interval    = 60 * time.Second       // TTL_0_RETRY: a TTL 0 name is asked again after
	renewDelay      = 500 * time.Millisecond // schedule_dns_renewal's margin past the expiry
)

// dnsEntry is a target name's last resolution (Kong's target.lastQuery):
// its answer, or its error, or the TTL 0 state, and when to ask again.
type dnsEntry struct {
	ans   *dnsclient.Answer
	err   string
	ttl0  bool
	renew time.Time
}

func (r *Registry) client() *dnsclient.Client {
	if r.DNS == nil {
		c, err := dnsclient.New(dnsclient.DefaultConfig())
		if err != nil { // Kong's defaults are valid: not reached
			panic(err)
		}
		r.DNS = c
	}
	return r.DNS
}

// resolve is a name's resolution, from the registry's state while it has
// one (the renewals update it: RefreshDNS).
func (r *Registry) resolve(ctx context.Context, name string) *dnsEntry {
	if e := r.dns[name]; e != nil {
		return e
	}
	e := r.query(ctx, name, nil)
	if r.dns == nil {
		r.dns = map[string]*dnsEntry{}
	}
	r.dns[name] = e
	return e
}

// query resolves a name as Kong's queryDns does (dns_client.resolve, which
// serves a stale answer while refreshing it): a failure is asked again
// after 30 s; an answer of TTL 0 — the first one, or one after another TTL
// 0 or a failure — makes the target a "virtual SRV" resolved at each pick
// and asked again after 60 s; another answer is asked again when it
// expires. Each renewal is half a second after its time, as Kong's timer.
func (r *Registry) query(ctx context.Context, name string, prev *dnsEntry) *dnsEntry {
	c := r.client()
	ans, err := c.Resolve(ctx, name, 0, false)
	now := c.Now()
	if err != nil {
		if r.Logger != nil {
			tried := ""
			if de, ok := err.(*dnsclient.Error); ok {
				tried = de.Tried
			}
			r.Logger.Warn("querying dns for "+name+" failed: "+err.Error()+". Tried "+tried, "target", name)
		}
		return &dnsEntry{err: err.Error(), renew: now.Add(requeryInterval + renewDelay)}
	}
	if ans.Records[0].TTL == 0 && (prev == nil || prev.ttl0 || prev.ans == nil || prev.ans.Records[0].TTL == 0) {
		return &dnsEntry{ttl0: true, renew: now.Add(ttl0Interval + renewDelay)}
	}
	at := ans.Expire
	if at.Before(now) {
		at = now // stale: the refresh is under way, look again shortly
	}
	return &dnsEntry{ans: ans, renew: at.Add(renewDelay)}
}

// same reports whether two resolutions give the same addresses.
func (e *dnsEntry) same(o *dnsEntry) bool {
	switch {
	case e.err != "" || o.err != "":
		return e.err == o.err
	case e.ttl0 || o.ttl0:
		return e.ttl0 == o.ttl0
	case e.ans == o.ans:
		return true
	}
	return fmt.Sprint(sortedRecords(e.ans)) == fmt.Sprint(sortedRecords(o.ans))
}

func sortedRecords(a *dnsclient.Answer) []string {
	out := make([]string, len(a.Records))
	for i, r := range a.Records {
		r.TTL = 0
		out[i] = fmt.Sprint(r)
	}
	sort.Strings(out)
	return out
}

// addresses are a target's addresses from its name's resolution, and its
// health reports' dns field (Kong's update_dns_result and addAddress):
//   - A / AAAA records: one address per record (sorted), the target's port
//     and weight;
//   - SRV records: one per record of the lowest priority (sorted by
//     priority, target, port), the record's port (0: the target's) and the
//     record's weight (0 counting as 1) in place of the target's — also
//     when the target's weight is 0, as in Kong. A record's target that
//     is a name stays one, resolved at each pick;
//   - TTL 0: one address holding the target's name, resolved at each pick
//     ("ttl=0, virtual SRV");
//   - a failure: none, the error as dns.
func (e *dnsEntry) addresses(t TargetRow, u *Upstream) (string, []*Address) {
	switch {
	case e.err != "":
		return e.err, nil
	case e.ttl0:
		return "ttl=0, virtual SRV", []*Address{{IP: t.Name, Port: t.Port, Weight: t.Weight, named: true, hostHeader: t.Name}}
	}
	recs := e.ans.Records
	typ := recs[0].Type
	var out []*Address
	if typ != dnsclient.TypeSRV {
		for _, r := range recs {
			out = append(out, &Address{IP: r.Address, Port: t.Port, Weight: t.Weight, hostHeader: t.Name})
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].IP < out[j].IP })
		return dnsclient.TypeName(typ), out
	}
	srv := append([]dnsclient.Record(nil), recs...)
	key := func(r *dnsclient.Record) string {
		return fmt.Sprintf("%06d:%s:%d", r.Priority, r.Target, r.Port)
	}
	sort.SliceStable(srv, func(i, j int) bool { return key(&srv[i]) < key(&srv[j]) })
	for _, r := range srv {
		if r.Priority != srv[0].Priority {
			break
		}
		a := &Address{IP: r.Target, Port: r.Port, Weight: r.Weight, hostHeader: t.Name}
		if a.Port == 0 {
			a.Port = t.Port
		}
		if a.Weight == 0 {
			a.Weight = 1 // SRV_0_WEIGHT
		}
		if _, ok := parseIP(r.Target); !ok {
			a.named = true
			if u.UseSRVName {
				a.hostHeader = r.Target
			}
		}
		out = append(out, a)
	}
	return "SRV", out
}

// RefreshDNS asks again for the names whose renewal time came (Kong's
// DNS renewal timer) and rebuilds the balancers when one's addresses
// changed. Run calls it every second.
func (r *Registry) RefreshDNS(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.DNS == nil && len(r.dns) == 0 {
		return
	}
	now := r.client().Now()
	changed := false
	for name, e := range r.dns {
		if now.Before(e.renew) {
			continue
		}
		ne := r.query(ctx, name, e)
		if !e.same(ne) {
			changed = true
		}
		r.dns[name] = ne
	}
	if changed {
		r.rebuild(ctx)
	}
}

// namedPeer resolves an address that holds a name (an SRV record's
// target, a TTL 0 target) at pick, as Kong's getAddressPeer does with
// toip (from the cache only on a retry).
func (b *Balancer) namedPeer(a *Address, retry bool) (Peer, error) {
	ip, port, err := b.dns.ToIP(context.Background(), a.IP, a.Port, retry)
	if err != nil {
		return Peer{}, err
	}
	p := Peer{IP: ip, Port: port, Hostname: a.hostHeader}
	if h := b.Upstream.HostHeader; h != "" {
		p.Hostname = h
	}
	p.HostPort = p.Hostname + ":" + strconv.Itoa(port)
	return p, nil
}
