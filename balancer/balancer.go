package balancer

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luahost/luahost/dnsclient"
)

// The errors of Kong's balancers.errors that reach the proxy: both make
// Kong answer 503 "failure to get a peer from the ring-balancer".
var (
	ErrNoPeers   = errors.New("No peers are available")
	ErrUnhealthy = errors.New("Balancer is unhealthy")
)

// Balancer balances one upstream over its targets' addresses. It is built
// whole by the Registry and never changed afterwards, except for the
// health of its addresses and the algorithms' counters.
type Balancer struct {
	Upstream *Upstream
	targets  []*Target
	total    int64        // the addresses' weight
	unavail  atomic.Int64 // the weight of the unavailable ones
	usingHC  bool

	// round-robin: a shuffled wheel, each address as many times as its
	// weight divided by the weights' gcd
	wheel []*Address
	ptr   atomic.Uint64
	// consistent-hashing: points slots, nil where no address fell
	continuum []*Address
	// latency: decayed response times, under lmu
	lmu sync.Mutex

	stop   context.CancelFunc // the active checker's
	logger Logger
	dns    *dnsclient.Client // resolves the named addresses
}

// Target is one targets row with its resolved addresses.
type Target struct {
	Name      string
	Port      int
	Weight    int
	IsIP      bool
	DNS       string // "A", "AAAA", "SRV", "ttl=0, virtual SRV", or the DNS error
	Addresses []*Address
}

// Address is one IP and port of a target, with its health. An SRV
// record's target that is a name, or a target of TTL 0, is an address
// holding a name (IP is the name) resolved at each pick, as Kong's
// addresses of ipType "name".
type Address struct {
	IP         string
	Port       int
	Weight     int
	named      bool
	target     *Target
	hostHeader string // the target's name when it is one (use_srv_name: the SRV target's)
	peer       Peer   // what Pick returns for it (not named)

	available atomic.Bool
	conns     atomic.Int64 // least-connections: requests in flight

	mu                                        sync.Mutex // the health counters
	successes, httpFailures, tcpFailures, tos int

	ewma   float64 // latency, under the balancer's lmu
	ewmaAt time.Time
}

// Available reports whether the address is healthy.
func (a *Address) Available() bool { return a.available.Load() }

// Target returns the target the address was resolved from.
func (a *Address) Target() *Target { return a.target }

func (a *Address) key() string {
	return a.IP + "|" + strconv.Itoa(a.Port) + "|" + a.target.Name
}

// Healthy is Kong's balancer health: the available weight's share, in
// percent, above healthchecks.threshold (no weight at all: unhealthy).
func (b *Balancer) Healthy() bool {
	if b.total == 0 {
		return false
	}
	return float64(b.total-b.unavail.Load())/float64(b.total)*100 > b.Upstream.Checks.Threshold
}

// Targets returns the balancer's targets (do not modify them).
func (b *Balancer) Targets() []*Target { return b.targets }

// UsingHealthchecks is whether a health checker runs for the upstream.
func (b *Balancer) UsingHealthchecks() bool { return b.usingHC }

func (b *Balancer) setAvailable(a *Address, v bool) bool {
	if a.available.Swap(v) == v {
		return false
	}
	if v {
		b.unavail.Add(-int64(a.Weight))
	} else {
		b.unavail.Add(int64(a.Weight))
	}
	return true
}

// Peer is where a try goes: the address, and the Host header name (the
// upstream's host_header, else the target's name, else the IP).
type Peer struct {
	IP       string
	Port     int
	Hostname string
	// HostPort is Hostname:Port, the Host header when the port is not
	// the scheme's default.
	HostPort string
}

// Handle is one request's state across its tries; the zero value is a
// first try. Keep it in the request's context and Release it at the end.
type Handle struct {
	b       *Balancer
	addr    *Address
	counted bool
	hash    int // the continuum index + 1; 0: not hashed yet
	Retries int
	failed  []*Address
}

// Address is the address of the current try (nil before Pick).
func (h *Handle) Address() *Address { return h.addr }

// Balancer is the balancer the handle picked from.
func (h *Handle) Balancer() *Balancer { return h.b }

// Pick chooses the address of the next try: the first when h is new,
// a retry after (Kong's getPeer with its handle).
func (b *Balancer) Pick(h *Handle, hashValue string) (Peer, error) {
	if h.b != nil {
		h.Retries++
		if h.addr != nil {
			h.failed = append(h.failed, h.addr)
		}
		h.release()
	}
	h.b = b
	if !b.Healthy() {
		return Peer{}, ErrUnhealthy
	}
	var a *Address
	switch b.Upstream.Algorithm {
	case "consistent-hashing":
		a = b.pickHash(h, hashValue)
	case "least-connections":
		a = b.pickLeast(h)
	case "latency":
		a = b.pickLatency(h)
	default:
		a = b.pickRound()
	}
	if a == nil {
		return Peer{}, ErrNoPeers
	}
	p := a.peer
	if a.named {
		var err error
		if p, err = b.namedPeer(a, h.Retries > 0); err != nil {
			return Peer{}, err
		}
	}
	h.addr = a
	if b.Upstream.Algorithm == "least-connections" {
		a.conns.Add(1)
		h.counted = true
	}
	return p, nil
}

func (h *Handle) release() {
	if h.counted && h.addr != nil {
		h.addr.conns.Add(-1)
	}
	h.counted = false
}

// Release ends the request: least-connections stops counting it, and the
// latency algorithm takes rtt (connect and response time) into the
// address's score (Kong's handle:release and after_balance).
func (h *Handle) Release(rtt time.Duration) {
	if h.b == nil {
		return
	}
	if h.addr != nil && h.b.Upstream.Algorithm == "latency" && rtt >= 0 {
		h.b.lmu.Lock()
		h.b.updateEWMA(h.addr, rtt.Seconds(), time.Now(), true)
		h.b.lmu.Unlock()
	}
	h.release()
	*h = Handle{failed: h.failed[:0]}
}

func (b *Balancer) pickRound() *Address {
	n := uint64(len(b.wheel))
	if n == 0 {
		return nil
	}
	start := b.ptr.Add(1)
	for i := uint64(0); i < n; i++ {
		if a := b.wheel[(start+i)%n]; a.available.Load() {
			if i > 0 {
				b.ptr.Add(i) // later picks go on from here, as Kong's pointer does
			}
			return a
		}
	}
	return nil
}

func (b *Balancer) pickHash(h *Handle, value string) *Address {
	n := len(b.continuum)
	if n == 0 {
		return nil
	}
	if h.hash == 0 {
		h.hash = continuumIndex(value, n)
	}
	// from the value's point downwards, wrapping, as Kong walks it: its
	// loop stops before the slot just above the start, so that slot is
	// never looked at (all of them when the start is the last slot)
	idx := h.hash
	steps := n - 1
	if idx == n {
		steps = n
	}
	for k := 0; k < steps; k++ {
		if a := b.continuum[idx-1]; a != nil && a.available.Load() {
			return a
		}
		idx--
		if idx == 0 {
			idx = n
		}
	}
	return nil
}

func (h *Handle) isFailed(a *Address) bool {
	for _, f := range h.failed {
		if f == a {
			return true
		}
	}
	return false
}

func (b *Balancer) pickLeast(h *Handle) *Address {
	var best, bestAny *Address
	var score, scoreAny float64
	for _, t := range b.targets {
		for _, a := range t.Addresses {
			if a.Weight <= 0 || !a.available.Load() {
				continue
			}
			s := float64(a.conns.Load()+1) / float64(a.Weight)
			if bestAny == nil || s < scoreAny {
				bestAny, scoreAny = a, s
			}
			if !h.isFailed(a) && (best == nil || s < score) {
				best, score = a, s
			}
		}
	}
	if best == nil { // every one failed already: start over (Kong clears failedAddresses)
		h.failed = h.failed[:0]
		return bestAny
	}
	return best
}

// decayTime is latency.lua's DECAY_TIME.
const decayTime = 10.0

func (b *Balancer) updateEWMA(a *Address, rtt float64, now time.Time, store bool) float64 {
	td := now.Sub(a.ewmaAt).Seconds()
	if a.ewmaAt.IsZero() || td < 0 {
		td = 0
		if a.ewmaAt.IsZero() {
			td = math.Inf(1)
		}
	}
	w := math.Exp(-td / decayTime)
	e := a.ewma*w + rtt*(1-w)
	if store {
		a.ewma, a.ewmaAt = e, now
	}
	return e
}

func (b *Balancer) pickLatency(h *Handle) *Address {
	b.lmu.Lock()
	defer b.lmu.Unlock()
	now := time.Now()
	var best *Address
	var score float64
	n := 0
	for _, t := range b.targets {
		for _, a := range t.Addresses {
			if a.Weight <= 0 || !a.available.Load() {
				continue
			}
			n++
			if h.isFailed(a) {
				continue
			}
			s := b.updateEWMA(a, 0, now, false) / float64(a.Weight)
			if best == nil || s < score {
				best, score = a, s
			}
		}
	}
	if n == 1 && best == nil { // a single address is retried (Kong's address_count 1)
		for _, t := range b.targets {
			for _, a := range t.Addresses {
				if a.Weight > 0 && a.available.Load() {
					return a
				}
			}
		}
	}
	return best
}

// build computes the algorithms' structures from the targets.
func (b *Balancer) build() {
	var all []*Address
	for _, t := range b.targets {
		for _, a := range t.Addresses {
			b.total += int64(a.Weight)
			if !a.available.Load() {
				b.unavail.Add(int64(a.Weight))
			}
			if a.Weight > 0 {
				all = append(all, a)
			}
		}
	}
	switch b.Upstream.Algorithm {
	case "consistent-hashing":
		b.buildContinuum(all)
	case "least-connections", "latency":
	default:
		b.buildWheel(all)
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (b *Balancer) buildWheel(all []*Address) {
	d := 0
	for _, a := range all {
		d = gcd(d, a.Weight)
	}
	for _, a := range all {
		for i := 0; i < a.Weight/d; i++ {
			b.wheel = append(b.wheel, a)
		}
	}
	rand.Shuffle(len(b.wheel), func(i, j int) { b.wheel[i], b.wheel[j] = b.wheel[j], b.wheel[i] })
}

// serverPoints is consistent_hashing.lua's SERVER_POINTS.
const serverPoints = 160

func (b *Balancer) buildContinuum(all []*Address) {
	points := b.Upstream.Slots
	if points < 1000 {
		points = 1000 // Kong's MIN_CONTINUUM_SIZE (and default)
	}
	// addresses sorted as Kong sorts them (targets by name then port,
	// each target's addresses by "ip:port"), so that the continuum does
	// not depend on the rows' order; IPv6 addresses bracketed, as Kong
	// writes them
	sorted := append([]*Address(nil), all...)
	sort.SliceStable(sorted, func(i, j int) bool {
		ti, tj := sorted[i].target, sorted[j].target
		if ni, nj := bracketed(ti.Name), bracketed(tj.Name); ni != nj {
			return ni < nj
		}
		if ti.Port != tj.Port {
			return ti.Port < tj.Port
		}
		return bracketed(sorted[i].IP)+":"+strconv.Itoa(sorted[i].Port) <
			bracketed(sorted[j].IP)+":"+strconv.Itoa(sorted[j].Port)
	})
	b.continuum = make([]*Address, points)
	var total int
	for _, a := range sorted {
		total += a.Weight
	}
	nTargets := len(b.targets)
	for _, a := range sorted {
		entries := int(math.Floor(float64(a.Weight) / float64(total) * float64(nTargets) * serverPoints))
		if entries == 0 {
			entries = 1
		}
		// Kong's point names: ip .. ":" .. (":" .. port) .. " " .. i
		prefix := bracketed(a.IP) + "::" + strconv.Itoa(a.Port) + " "
		for i := 1; i <= entries; i++ {
			idx := continuumIndex(prefix+strconv.Itoa(i), points)
			if b.continuum[idx-1] == nil {
				b.continuum[idx-1] = a
			} else {
				entries++ // a collision: one more point, as Kong does
			}
			if i+1 > points {
				// Kong logs "requires more entries" and keeps no
				// continuum
				clear(b.continuum)
				return
			}
		}
	}
}

// bracketed is an address as Kong writes it: an IPv6 one in brackets.
func bracketed(ip string) string {
	if strings.IndexByte(ip, ':') >= 0 {
		return "[" + ip + "]"
	}
	return ip
}

// parseIP reports whether s is an IP literal, and its family's DNS type.
func parseIP(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	if a.Is4() || a.Is4In6() {
		return "A", true
	}
	return "AAAA", true
}

// hostPort formats an address for dialing.
func hostPort(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }
