package proxy

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/dnsclient"
)

// Balancers finds the ring-balancer of an Upstream entity by name
// (balancer.Registry has it): a Service whose host names one is balanced
// over its targets.
type Balancers interface {
	Balancer(name string) *balancer.Balancer
}

// Try is one attempt at the upstream (Kong's balancer_data.tries[i]): the
// address, and for a failed one its state and status.
type Try struct {
	IP    string
	Port  int
	State string // "failed" for a try that was retried, else ""
	Code  int    // 502 or 504 with State "failed"
	// Start is when the balancer was asked (balancer_start), Latency how
	// long it took to answer (balancer_latency).
	Start   time.Time
	Latency time.Duration
}

// errNoPeerRetry is a retry for which the balancer had no address left
// (Kong's balancer phase exits 503).
var errNoPeerRetry = errors.New("failure to get a peer from the ring-balancer")

// Resolver resolves a Service host that names no Upstream entity, as
// Kong's toip (dnsclient.Client has it): an address and the port, which
// an SRV record sets.
type Resolver interface {
	ToIP(ctx context.Context, name string, port int, cacheOnly bool) (string, int, error)
}

// balance picks the first try's address (Kong's balancer.execute in
// access.after): from the balancer when the Service's host names an
// upstream, else by resolving the host when it is a name; false when it
// answered (503, 500).
func (p *Proxy) balance(c *Context) bool {
	up := &c.Upstream
	var b *balancer.Balancer
	if p.cfg.Balancer != nil {
		b = p.cfg.Balancer.Balancer(up.Hostname)
	}
	if b == nil {
		return p.resolveHost(c)
	}
	m := &c.Match
	// a Route preserving the Host, or a plugin that set it, keeps it
	// (Kong's balancer_data.preserve_host: upstream_host set)
	c.preserveHost = m.PreserveHost || up.Host != m.UpstreamHost
	c.hashValue = ""
	if b.Upstream.HashOn.On != "none" {
		c.hashValue = b.HashValue((*hashSource)(c), &c.hashCookie)
	}
	start := time.Now()
	peer, err := b.Pick(&c.bh, c.hashValue)
	if err != nil {
		if errors.Is(err, balancer.ErrNoPeers) || errors.Is(err, balancer.ErrUnhealthy) {
			p.kongError(c, 503, "failure to get a peer from the ring-balancer")
		} else { // an address holding a name that did not resolve
			p.dnsFailed(c, up.Hostname, err)
			p.kongError(c, 500, "failed the initial dns/balancer resolve for '"+up.Hostname+"' with: "+err.Error())
		}
		return false
	}
	c.balanced = true
	p.usePeer(c, peer, start)
	return true
}

// resolveHost resolves a Service host that is a name (Kong's execute
// without a balancer: toip): the request goes to the address, and to the
// port of an SRV record, which the Host header then names unless the Host
// is preserved. A name that does not exist or has no record of the types
// tried is Kong's 503 "name resolution failed"; another failure (a server
// failure, no nameserver answering) its 500.
func (p *Proxy) resolveHost(c *Context) bool {
	r := p.cfg.DNS
	up := &c.Upstream
	if r == nil || !dnsclient.IsName(up.Hostname) {
		return true
	}
	host := up.Hostname
	// not the RequestCtx as the context: a query outliving the request
	// (shared by a later one, or a timer of the dialer) would read it after
	// fasthttp reset it; the client's own timeouts bound the query
	ip, port, err := r.ToIP(context.Background(), host, up.Port, false)
	if err != nil {
		p.dnsFailed(c, host, err)
		if errors.Is(err, dnsclient.ErrNameResolution) {
			p.kongError(c, 503, "name resolution failed")
		} else {
			p.kongError(c, 500, "failed the initial dns/balancer resolve for '"+host+"' with: "+err.Error())
		}
		return false
	}
	up.Hostname = ip
	if port != up.Port {
		m := &c.Match
		if !m.PreserveHost && up.Host == m.UpstreamHost {
			up.Host = host
			if (port != 80 && port != 443) || (port == 80 && up.Scheme != "http") || (port == 443 && up.Scheme != "https") {
				up.Host = host + ":" + strconv.Itoa(port)
			}
		}
		up.Port = port
	}
	return true
}

// dnsFailed logs a resolution that failed, as Kong's "DNS resolution
// failed" with the names and types tried.
func (p *Proxy) dnsFailed(c *Context, host string, err error) {
	if l := p.cfg.Logger; l != nil {
		tried := ""
		var de *dnsclient.Error
		if errors.As(err, &de) {
			tried = de.Tried
		}
		l.Error("DNS resolution failed: "+err.Error()+". Tried: "+tried, "host", host, "request_id", c.RequestID)
	}
}

// usePeer points the request at a picked address, with the Host header
// Kong's set_host_header gives it.
func (p *Proxy) usePeer(c *Context, peer balancer.Peer, start time.Time) {
	up := &c.Upstream
	up.Hostname, up.Port = peer.IP, peer.Port
	c.Tries = append(c.Tries, Try{IP: peer.IP, Port: peer.Port, Start: start, Latency: time.Since(start)})
	if c.preserveHost {
		return
	}
	up.Host = peer.Hostname
	if (peer.Port != 80 && peer.Port != 443) || (peer.Port == 80 && up.Scheme != "http") ||
		(peer.Port == 443 && up.Scheme != "https") {
		up.Host = peer.HostPort
	}
}

// retryPeer moves a balanced request to its next address after a failed
// try, reporting the failure to the passive health checks; the client
// for the new address is returned.
func (p *Proxy) retryPeer(c *Context, err error) (*fasthttp.HostClient, error) {
	code, outcome := 502, balancer.TCPFailure
	if isTimeout(err) {
		code, outcome = 504, balancer.Timeout
	}
	last := &c.Tries[len(c.Tries)-1]
	last.State, last.Code = "failed", code
	c.bh.Report(outcome, 0)
	start := time.Now()
	peer, perr := c.bh.Balancer().Pick(&c.bh, c.hashValue)
	if perr != nil {
		return nil, errNoPeerRetry
	}
	p.usePeer(c, peer, start)
	// the Host of the new try (Kong's set_host_header and
	// recreate_request): the request's URI too, whose host fasthttp
	// writes as Host once the URI was parsed
	req := &c.RequestCtx.Request
	req.Header.SetHost(c.Upstream.Host)
	req.URI().SetHost(c.Upstream.Host)
	return p.client(c.Match.Service, &c.Upstream, true), nil
}

// balancerDone reports the last try's status to the passive health
// checks (504 as a timeout) and releases the handle (Kong's log phase).
func (c *Context) balancerDone() {
	if c.bh.Balancer() == nil {
		return
	}
	if c.Proxied && c.bh.Address() != nil {
		status := c.upStatus
		if c.UpstreamErr != nil {
			status = c.RequestCtx.Response.StatusCode()
		}
		if status == 504 {
			c.bh.Report(balancer.Timeout, 0)
		} else if status != 0 {
			c.bh.Report(balancer.HTTPStatus, status)
		}
	}
	rtt := c.UpstreamLatency
	if !c.Proxied || c.UpstreamErr != nil {
		rtt = -1
	}
	c.bh.Release(rtt)
}

// hashSource is the request as the balancer's hash_on reads it.
type hashSource Context

func (s *hashSource) HashConsumer() (string, bool) {
	c := (*Context)(s)
	if f := c.p.cfg.ConsumerID; f != nil {
		return f(c)
	}
	return "", false
}

func (s *hashSource) HashIP() string { return (*Context)(s).ClientIP().String() }

func (s *hashSource) HashHeader(name string) (string, bool) {
	var out []byte
	found := false
	lname := strings.ToLower(name)
	for k, v := range s.RequestCtx.Request.Header.All() {
		if headerNameEqual(k, lname) {
			if found {
				out = append(out, ", "...)
			}
			out = append(out, v...)
			found = true
		}
	}
	return string(out), found
}

func (s *hashSource) HashCookie(name string) (string, bool) {
	v := s.RequestCtx.Request.Header.Cookie(name)
	if v == nil {
		// fasthttp gives nil for a missing cookie and for an empty one
		for k := range s.RequestCtx.Request.Header.Cookies() {
			if string(k) == name {
				return "", true
			}
		}
		return "", false
	}
	return string(v), true
}

func (s *hashSource) HashPath() string {
	if s.Match.Path != "" {
		return s.Match.Path
	}
	p := s.OriginalURI
	if i := bytes.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return string(p)
}

func (s *hashSource) HashQueryArg(name string) (string, bool) {
	var vals []string
	for k, v := range s.RequestCtx.QueryArgs().All() {
		if string(k) != name {
			continue
		}
		if len(v) == 0 && !hasEquals(s.OriginalURI, name) {
			vals = append(vals, "true")
		} else {
			vals = append(vals, string(v))
		}
	}
	switch len(vals) {
	case 0:
		return "", false
	case 1:
		return vals[0], true
	}
	sort.Strings(vals)
	return strings.Join(vals, ","), true
}

// hasEquals reports whether the query has name=, to tell "?a=" (empty
// string) from "?a" (Lua's true).
func hasEquals(uri []byte, name string) bool {
	i := bytes.IndexByte(uri, '?')
	if i < 0 {
		return false
	}
	for _, part := range bytes.Split(uri[i+1:], []byte("&")) {
		if bytes.HasPrefix(part, []byte(name+"=")) {
			return true
		}
	}
	return false
}

func (s *hashSource) HashURICapture(name string) (string, bool) {
	caps := s.Match.URICaptures
	if caps == nil {
		return "", false
	}
	if n, err := strconv.Atoi(name); err == nil {
		return caps.Group(n)
	}
	return caps.Named(name)
}
