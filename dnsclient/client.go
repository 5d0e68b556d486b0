// Package dnsclient is Kong's DNS client (kong/resty/dns/client.lua, the
// one Kong 3 uses unless new_dns_client is on): names are resolved through
// dns_order (LAST, SRV, A, AAAA, CNAME), with resolv.conf's search and
// ndots, the hosts file's entries first, CNAMEs followed, SRV records
// followed to their targets' addresses with their ports and weights, and
// every answer (records, empty answers and errors) cached for its TTL,
// then served stale for dns_stale_ttl while a refresh runs in the
// background.
//
// It queries the nameservers itself (github.com/miekg/dns) because Kong's
// behaviour hangs on what Go's resolver hides: the records' TTLs, SRV
// records of any name, the rcode of a failure.
//
// It depends on nothing of luahost. The balancer resolves Upstream targets
// with Resolve; the proxy a Service host with ToIP.
package dnsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// The record types Kong's client resolves.
const (
	TypeA     = dns.TypeA
	TypeAAAA  = dns.TypeAAAA
	TypeCNAME = dns.TypeCNAME
	TypeSRV   = dns.TypeSRV
	// typeLast is dns_order's LAST: the type the name last resolved with.
	typeLast uint16 = 0xff00
)

// TypeName is a record type's name ("A", "SRV", ...).
func TypeName(t uint16) string { return dns.TypeToString[t] }

// hostsTTL is the TTL of the hosts file's entries and of IP literals
// (Kong's 10 years).
const hostsTTL = 10 * 365 * 24 * time.Hour

// The messages of Kong's client errors.
const (
	msgNameError   = "dns server error: 3 name error"
	msgEmpty       = "dns client error: 101 empty record received"
	msgRecursion   = "recursion detected"
	clientCacheMis = 100
)

var clientErrors = map[int]string{
	100: "cache only lookup failed",
	101: "empty record received",
	102: "invalid name, bad IPv4",
	103: "invalid name, bad IPv6",
}

// rcodeText is lua-resty-dns's text for a server's rcode.
func rcodeText(code int) string {
	switch code {
	case 1:
		return "format error"
	case 2:
		return "server failure"
	case 3:
		return "name error"
	case 4:
		return "not implemented"
	case 5:
		return "refused"
	}
	return "unknown"
}

// ErrNameResolution is what errors.Is finds in an *Error for which Kong
// answers a Service's request with 503 "name resolution failed": the name
// does not exist ("dns server error: 3 name error") or has no record of
// the types tried ("dns client error: 101 empty record received").
var ErrNameResolution = errors.New("name resolution failed")

// Error is a failed resolution, with Kong's message ("dns server error:
// 2 server failure", "recursion detected", a nameserver's failure).
type Error struct {
	Msg string
	// Tried lists the names and types tried, as Kong's try list.
	Tried string
}

func (e *Error) Error() string { return e.Msg }

// TryList is Tried (what a cosocket's failed connect reports, Kong's
// "[cosocket] DNS resolution failed: <err>. Tried: <try list>").
func (e *Error) TryList() string { return e.Tried }

// Is matches ErrNameResolution for a name error or an empty answer.
func (e *Error) Is(target error) bool {
	return target == ErrNameResolution && (e.Msg == msgNameError || e.Msg == msgEmpty)
}

// Client is Kong's DNS client. It is safe for concurrent use.
type Client struct {
	cfg         Config
	order       []uint16
	ipPref      uint16 // A or AAAA, whichever dns_order names first
	nameservers []string
	rotate      bool
	search      []string
	ndots       int
	timeout     time.Duration
	attempts    int
	maxWait     time.Duration // how long a query waits for one in flight

	cache   *cache
	defined map[cacheKey]bool // the hosts file's name and type

	fmu      sync.Mutex
	inflight map[cacheKey]*call
	bg       sync.WaitGroup // background refreshes
	// exchange sends one query to one server (tests replace it).
	exchange func(ctx context.Context, m *dns.Msg, network, server string, timeout time.Duration) (*dns.Msg, error)
}

// call is a query in flight, which others for the same name and type wait
// for (Kong's synchronised queries).
type call struct {
	done chan struct{}
	ans  *Answer
	err  error
}

// New makes a client: it reads the hosts file into the cache (with
// localhost always defined, RFC 6761) and resolv.conf for what cfg leaves
// unset.
func New(cfg Config) (*Client, error) {
	c := &Client{cfg: cfg, cache: newCache(cfg.CacheSize), defined: map[cacheKey]bool{},
		inflight: map[cacheKey]*call{}, exchange: exchange}
	order := cfg.Order
	if order == nil { // the client's own default (dns_order unset)
		order = []string{"LAST", "SRV", "A", "AAAA", "CNAME"}
	}
	for _, o := range order {
		t, ok := orderNames[strings.ToUpper(strings.TrimSpace(o))]
		if !ok {
			return nil, fmt.Errorf("Invalid dns record type in order array; %s", o)
		}
		if c.ipPref == 0 && (t == TypeA || t == TypeAAAA) {
			c.ipPref = t
		}
		c.order = append(c.order, t)
	}
	if len(c.order) == 0 {
		return nil, errors.New("Invalid order list; cannot be empty")
	}

	hostsFile := cfg.HostsFile
	if hostsFile == "" {
		hostsFile = "/etc/hosts"
	}
	hosts, err := readHosts(hostsFile)
	if err != nil {
		c.warn("Hosts file not found: " + hostsFile)
		hosts = map[string]*hostsEntry{}
	}
	if hosts["localhost"] == nil {
		hosts["localhost"] = &hostsEntry{ipv4: "127.0.0.1", ipv6: "::1"}
	}
	now := c.now()
	for name, h := range hosts {
		if h.ipv4 != "" {
			c.insertHosts(name, TypeA, h.ipv4, now)
			c.setLast(name, TypeA)
		}
		if h.ipv6 != "" {
			c.insertHosts(name, TypeAAAA, h.ipv6, now)
			if c.ipPref == TypeAAAA || c.getLast(name, now) == 0 {
				c.setLast(name, TypeAAAA)
			}
		}
	}

	rcPath := cfg.ResolvConf
	if rcPath == "" {
		rcPath = "/etc/resolv.conf"
	}
	rc, err := readResolvConf(rcPath, os.Getenv)
	if err != nil {
		c.warn("Resolv.conf file not found: " + rcPath)
		rc = &resolvConf{}
	}
	for _, ns := range cfg.Nameservers {
		s, ok := ParseNameserver(ns)
		if !ok {
			return nil, fmt.Errorf("invalid nameserver %q", ns)
		}
		c.nameservers = append(c.nameservers, s)
	}
	if len(c.nameservers) == 0 {
		for _, ns := range rc.nameservers {
			if strings.Contains(ns, "%") { // an IPv6 scope: not supported
				continue
			}
			if s, ok := ParseNameserver(ns); ok {
				c.nameservers = append(c.nameservers, s)
			}
		}
	}
	if len(c.nameservers) == 0 {
		c.warn("Invalid configuration, no valid nameservers found")
	}
	c.rotate = rc.rotate
	c.attempts = cfg.Attempts
	if c.attempts <= 0 {
		c.attempts = rc.attempts
	}
	if c.attempts <= 0 {
		c.attempts = 5
	}
	c.timeout = cfg.Timeout
	if c.timeout <= 0 {
		c.timeout = time.Duration(rc.timeout) * time.Second
	}
	if c.timeout <= 0 {
		c.timeout = 2 * time.Second
	}
	c.ndots = cfg.Ndots
	if c.ndots <= 0 {
		c.ndots = rc.ndots
	}
	if c.ndots <= 0 {
		c.ndots = 1
	}
	search := cfg.Search
	if search == nil {
		search = rc.search
	}
	for _, s := range search {
		if s != "." { // a root domain is no search domain
			c.search = append(c.search, s)
		}
	}
	c.maxWait = c.timeout*time.Duration(c.attempts) + time.Second
	return c, nil
}

func (c *Client) now() time.Time {
	if c.cfg.Now != nil {
		return c.cfg.Now()
	}
	return time.Now()
}

// Now is the client's clock.
func (c *Client) Now() time.Time { return c.now() }

func (c *Client) warn(msg string, args ...any) {
	if c.cfg.Logger != nil {
		c.cfg.Logger.Warn("[dns-client] "+msg, args...)
	}
}

// Wait waits for the background refreshes started so far.
func (c *Client) Wait() { c.bg.Wait() }

func (c *Client) insertHosts(name string, t uint16, addr string, now time.Time) {
	ans := &Answer{Records: []Record{{Type: t, Name: name, Address: addr, TTL: uint32(hostsTTL / time.Second)}},
		TTL: hostsTTL, Expire: now.Add(hostsTTL)}
	c.cache.set(cacheKey{kindRecords, t, name}, &cacheEntry{ans: ans, lruExp: ans.Expire.Add(c.cfg.StaleTTL)})
	c.defined[cacheKey{kindRecords, t, name}] = true
}

func (c *Client) getLast(name string, now time.Time) uint16 {
	if e := c.cache.get(cacheKey{kindLast, 0, name}, now); e != nil {
		return e.last
	}
	return 0
}

// setLast records the type name resolved with, if dns_order tries it.
func (c *Client) setLast(name string, t uint16) {
	if t == 0 {
		c.cache.del(cacheKey{kindLast, 0, name})
		return
	}
	for _, o := range c.order {
		if o == t {
			c.cache.set(cacheKey{kindLast, 0, name}, &cacheEntry{last: t})
			return
		}
	}
}

// lookupCache returns the cached answer for a key, nil when none.
func (c *Client) lookupCache(k cacheKey, now time.Time) *Answer {
	if e := c.cache.get(k, now); e != nil {
		return e.ans
	}
	return nil
}

// insert caches a new answer for qname and qtype as Kong's cacheinsert
// does: records for their least TTL (or dns_valid_ttl); an error other
// than a name error for dns_error_ttl and an empty answer for
// dns_not_found_ttl, unless stale records are cached (they are kept); a
// name error for dns_not_found_ttl. It is kept in the cache
// dns_stale_ttl longer.
func (c *Client) insert(ans *Answer, qname string, qtype uint16, now time.Time) {
	k := cacheKey{kindRecords, qtype, qname}
	var ttl time.Duration
	switch {
	case len(ans.Records) > 0:
		ttl = -1
		for i := range ans.Records {
			if c.cfg.ValidTTL >= 0 {
				ans.Records[i].TTL = uint32(c.cfg.ValidTTL / time.Second)
			}
			if t := time.Duration(ans.Records[i].TTL) * time.Second; ttl < 0 || t < ttl {
				ttl = t
			}
		}
		if c.cfg.ValidTTL >= 0 {
			ttl = c.cfg.ValidTTL
		}
	case ans.Code != 0 && ans.Code != 3:
		if old := c.lookupCache(k, now); old != nil && len(old.Records) > 0 {
			return
		}
		ttl = c.cfg.ErrorTTL
	case ans.Code == 3:
		ttl = c.cfg.NotFoundTTL
	default:
		if old := c.lookupCache(k, now); old != nil && len(old.Records) > 0 {
			return
		}
		ttl = c.cfg.NotFoundTTL
	}
	ans.TTL, ans.Expire = ttl, now.Add(ttl)
	c.put(k, ans, now)
}

// put caches an answer already made (under another key: a short name).
func (c *Client) put(k cacheKey, ans *Answer, now time.Time) {
	lru := ans.Expire.Add(c.cfg.StaleTTL)
	if !lru.After(now) {
		c.cache.del(k)
		return
	}
	c.cache.set(k, &cacheEntry{ans: ans, lruExp: lru})
}

// tryList is Kong's try list: the names and types tried, for the
// recursion checks and the logs. nil until something is added.
type tryList struct {
	seen  map[string]bool
	lines []string
}

func (t *tryList) has(k string) bool { return t != nil && t.seen[k] }

func (t *tryList) add(k, status string) *tryList {
	if t == nil {
		t = &tryList{seen: map[string]bool{}}
	}
	t.seen[k] = true
	t.lines = append(t.lines, k+" - "+status)
	return t
}

func (t *tryList) status(s string) {
	if t != nil && len(t.lines) > 0 {
		t.lines[len(t.lines)-1] += "/" + s
	}
}

func (t *tryList) String() string {
	if t == nil {
		return "[]"
	}
	return `["` + strings.Join(t.lines, `","`) + `"]`
}

func tryKey(name string, t uint16) string {
	if t == 0 {
		return name + ":(na)"
	}
	return name + ":" + strconv.Itoa(int(t))
}

func (c *Client) fail(msg string, tl *tryList) (*Answer, *tryList, error) {
	return nil, tl, &Error{Msg: msg, Tried: tl.String()}
}

// Resolve resolves a name to its records: through dns_order when qtype is
// 0 (CNAMEs followed), else that type only. cacheOnly makes no query
// (Kong's dns_cache_only on a retry): a name not cached fails. The answer
// is shared: do not modify it.
func (c *Client) Resolve(ctx context.Context, name string, qtype uint16, cacheOnly bool) (*Answer, error) {
	ans, _, err := c.resolve(ctx, name, qtype, cacheOnly, nil)
	return ans, err
}

func (c *Client) resolve(ctx context.Context, qname string, qtype uint16, cacheOnly bool, tl *tryList) (*Answer, *tryList, error) {
	qname = strings.ToLower(qname)
	now := c.now()
	// the short name first: no search list walked again while fresh
	short := c.lookupCache(cacheKey{kindShort, qtype, qname}, now)
	if short != nil {
		sk := func() string { return "(short)" + tryKey(qname, qtype) }
		if tl != nil && tl.has(sk()) {
			tl.status(msgRecursion)
			return c.fail(msgRecursion, tl)
		}
		if !short.Expired(now) {
			if short.Records[0].Type == TypeCNAME && qtype != TypeCNAME {
				tl = tl.add(sk(), "cache-hit/dereferencing CNAME")
				return c.resolve(ctx, short.Records[0].CNAME, 0, cacheOnly, tl)
			}
			return short, tl, nil
		}
		tl = tl.add(sk(), "cache-hit/stale")
	}

	if t := hostnameType(qname); t != "name" {
		return c.literal(qname, qtype, t, now, tl)
	}

	var errMsg string
	var qerr error
	for _, try := range c.searchList(qname, qtype, now) {
		k := tryKey(try.name, try.qtype)
		if tl.has(k) {
			errMsg = msgRecursion
			break
		}
		var ans *Answer
		ans, tl, qerr = c.lookup(ctx, try.name, try.qtype, cacheOnly, tl)
		if qerr != nil {
			// a query failed: no other type is tried, so that an A
			// record does not answer for an SRV query that failed
			break
		}
		switch {
		case ans.Code != 0:
			errMsg = fmt.Sprintf("dns server error: %d %s", ans.Code, ans.Msg)
		case len(ans.Records) == 0:
			errMsg = msgEmpty
		default:
			if !cacheOnly && qtype == 0 {
				c.setLast(try.name, try.qtype)
			}
			if qtype != TypeSRV && try.qtype == TypeSRV && selfSRV(ans, try.name) {
				// every SRV record points at the name itself (Kubernetes
				// makes these): try the next type
				errMsg = msgRecursion
				break
			}
			if !cacheOnly {
				c.put(cacheKey{kindShort, qtype, qname}, ans, now)
			}
			if ans.Records[0].Type == TypeCNAME && qtype != TypeCNAME {
				tl.status("dereferencing CNAME")
				return c.resolve(ctx, ans.Records[0].CNAME, 0, cacheOnly, tl)
			}
			return ans, tl, nil
		}
		tl.status(errMsg)
	}
	if !cacheOnly {
		c.setLast(qname, 0)
	}
	if qerr != nil {
		return nil, tl, &Error{Msg: qerr.Error(), Tried: tl.String()}
	}
	return c.fail(errMsg, tl)
}

func selfSRV(ans *Answer, name string) bool {
	for _, r := range ans.Records {
		if r.Target != name {
			return false
		}
	}
	return true
}

// literal answers for an IP address (Kong's check_ipv4 / check_ipv6): an
// A (AAAA) record of itself, cached 10 years; an error for another type.
func (c *Client) literal(qname string, qtype uint16, family string, now time.Time, tl *tryList) (*Answer, *tryList, error) {
	want, code := TypeA, 102
	if family == "ipv6" {
		want, code = TypeAAAA, 103
	}
	if qtype == 0 {
		qtype = want
	}
	k := cacheKey{kindRecords, qtype, qname}
	ans := c.lookupCache(k, now)
	if ans == nil {
		addr := strings.TrimSuffix(strings.TrimPrefix(qname, "["), "]")
		ip := net.ParseIP(addr)
		if qtype == want && ip != nil {
			ans = &Answer{Records: []Record{{Type: want, Name: qname, Address: ip.String(), TTL: uint32(hostsTTL / time.Second)}},
				TTL: hostsTTL, Expire: now.Add(hostsTTL)}
			c.setLast(qname, want)
		} else {
			ans = &Answer{Code: code, Msg: clientErrors[code], TTL: c.cfg.ErrorTTL, Expire: now.Add(c.cfg.ErrorTTL)}
		}
		c.put(k, ans, now)
	}
	if ans.Code != 0 {
		return c.fail(fmt.Sprintf("dns client error: %d %s", ans.Code, ans.Msg), tl)
	}
	return ans, tl, nil
}

type try struct {
	name  string
	qtype uint16
}

// searchList is Kong's search_iter: for each type of dns_order (LAST the
// name's last type, each type once), the name with each search domain,
// and the bare name — first when it has ndots dots or is in the hosts
// file for that type, else last. A name ending in a dot is searched as
// is.
func (c *Client) searchList(qname string, qtype uint16, now time.Time) []try {
	types := c.order
	if qtype != 0 {
		types = []uint16{qtype}
	}
	search := c.search
	if strings.HasSuffix(qname, ".") {
		search = nil
	}
	dots := strings.Count(qname, ".")
	var out []try
	var done [8]uint16
	nd := 0
next:
	for _, t := range types {
		if t == typeLast {
			if t = c.getLast(qname, now); t == 0 {
				continue
			}
		}
		for _, d := range done[:nd] {
			if d == t {
				continue next
			}
		}
		if nd < len(done) {
			done[nd] = t
			nd++
		}
		bareFirst := dots >= c.ndots || c.defined[cacheKey{kindRecords, t, qname}]
		if bareFirst {
			out = append(out, try{qname, t})
		}
		for _, d := range search {
			out = append(out, try{qname + "." + d, t})
		}
		if !bareFirst {
			out = append(out, try{qname, t})
		}
	}
	return out
}

// lookup is Kong's lookup: the cached answer (a stale one starts a
// refresh in the background), else a query — synchronised with one in
// flight for the same name and type unless dns_no_sync.
func (c *Client) lookup(ctx context.Context, qname string, qtype uint16, cacheOnly bool, tl *tryList) (*Answer, *tryList, error) {
	k := cacheKey{kindRecords, qtype, qname}
	now := c.now()
	if ans := c.lookupCache(k, now); ans != nil {
		tl = tl.add(tryKey(qname, qtype), "cache-hit")
		if ans.Expired(now) {
			tl.status("stale")
			c.refresh(k)
		}
		return ans, tl, nil
	}
	if cacheOnly {
		tl = tl.add(tryKey(qname, qtype), clientErrors[clientCacheMis])
		return &Answer{Code: clientCacheMis, Msg: clientErrors[clientCacheMis]}, tl, nil
	}
	tl = tl.add(tryKey(qname, qtype), "cache-miss")
	if c.cfg.NoSync {
		ans, err := c.query(ctx, qname, qtype)
		return ans, tl, err
	}
	c.fmu.Lock()
	if cl := c.inflight[k]; cl != nil {
		c.fmu.Unlock()
		tl.status("in progress (sync)")
		t := time.NewTimer(c.maxWait)
		defer t.Stop()
		select {
		case <-cl.done:
			return cl.ans, tl, cl.err
		case <-t.C:
			c.fmu.Lock()
			if c.inflight[k] == cl {
				delete(c.inflight, k)
			}
			c.fmu.Unlock()
			return nil, tl, errors.New("timeout")
		case <-ctx.Done():
			return nil, tl, ctx.Err()
		}
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[k] = cl
	c.fmu.Unlock()
	cl.ans, cl.err = c.query(ctx, qname, qtype)
	c.finish(k, cl)
	return cl.ans, tl, cl.err
}

func (c *Client) finish(k cacheKey, cl *call) {
	c.fmu.Lock()
	if c.inflight[k] == cl {
		delete(c.inflight, k)
	}
	c.fmu.Unlock()
	close(cl.done)
}

// refresh queries a stale answer again in the background, unless a query
// for it is in flight.
func (c *Client) refresh(k cacheKey) {
	c.fmu.Lock()
	if c.inflight[k] != nil {
		c.fmu.Unlock()
		return
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[k] = cl
	c.bg.Add(1)
	c.fmu.Unlock()
	go func() {
		defer c.bg.Done()
		cl.ans, cl.err = c.query(context.Background(), k.name, k.qtype)
		c.finish(k, cl)
	}()
}

// ToIP resolves a name to one address and port (Kong's toip): an SRV
// record is chosen by weighted round-robin among the lowest priority and
// followed to its target, with its port (unless 0); A and AAAA records
// are taken in turn. port is returned when no SRV record gives one.
func (c *Client) ToIP(ctx context.Context, name string, port int, cacheOnly bool) (string, int, error) {
	ip, p, _, err := c.toIP(ctx, name, port, cacheOnly, nil)
	return ip, p, err
}

func (c *Client) toIP(ctx context.Context, name string, port int, cacheOnly bool, tl *tryList) (string, int, *tryList, error) {
	ans, tl, err := c.resolve(ctx, name, 0, cacheOnly, tl)
	if err != nil {
		return "", 0, tl, err
	}
	if ans.Records[0].Type == TypeSRV {
		r := &ans.Records[ans.roundRobinW()]
		if r.Port != 0 {
			port = r.Port
		}
		// the short name is marked, so that a target leading back to it
		// is found to be a recursion
		tl = tl.add("(short)"+tryKey(strings.ToLower(name), 0), "dereferencing SRV")
		return c.toIP(ctx, r.Target, port, cacheOnly, tl)
	}
	return ans.Records[ans.roundRobin()].Address, port, tl, nil
}
