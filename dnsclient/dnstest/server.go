// Package dnstest is a DNS server for tests: it answers on 127.0.0.1 (UDP,
// a free port) from records the test sets and changes, and counts the
// queries it gets.
package dnstest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/luahost/luahost/dnsclient"
)

// Server is a running test DNS server.
type Server struct {
	// Addr is its "127.0.0.1:port".
	Addr string

	srv     *dns.Server
	mu      sync.Mutex
	records map[string][]dns.RR // by lower-case FQDN
	rcodes  map[string]int
	queries map[string]int // "name TYPE"
}

// Start starts a server, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: pc.LocalAddr().String(), records: map[string][]dns.RR{},
		rcodes: map[string]int{}, queries: map[string]int{}}
	started := make(chan struct{})
	s.srv = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = s.srv.Shutdown()
		<-done
	})
	return s
}

func fqdn(name string) string { return dns.Fqdn(strings.ToLower(name)) }

// Set replaces name's records of rr's types with rr (records in zone-file
// syntax: "svc.test. 30 IN A 10.0.0.1"; every one must name the same owner
// and type). Set(name, qtype) with no records removes those.
func (s *Server) Set(name string, qtype uint16, records ...string) {
	var rrs []dns.RR
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil {
			panic(err)
		}
		rrs = append(rrs, rr)
	}
	k := fqdn(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.records[k][:0:0]
	for _, rr := range s.records[k] {
		if rr.Header().Rrtype != qtype {
			kept = append(kept, rr)
		}
	}
	s.records[k] = append(kept, rrs...)
	if len(s.records[k]) == 0 {
		delete(s.records, k)
	}
}

// Rcode makes every query for name answer rcode (0: answer from the
// records again).
func (s *Server) Rcode(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rcode == 0 {
		delete(s.rcodes, fqdn(name))
	} else {
		s.rcodes[fqdn(name)] = rcode
	}
}

// Queries is how many queries for name and type the server answered.
func (s *Server) Queries(name string, qtype uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[fqdn(name)+" "+dns.TypeToString[qtype]]
}

// serve answers as an authoritative server would: the name's records of
// the type asked; a CNAME (and its target's records of that type, when the
// server has them) for a name with a CNAME; an SRV's targets' addresses in
// the additional section; NOERROR with no answer for a name that has other
// types only; NXDOMAIN for a name it does not know.
func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		s.mu.Lock()
		s.queries[name+" "+dns.TypeToString[q.Qtype]]++
		if rc, ok := s.rcodes[name]; ok {
			m.Rcode = rc
		} else if _, ok := s.records[name]; !ok {
			m.Rcode = dns.RcodeNameError
		} else {
			for hops := 0; hops < 8; hops++ {
				var cname *dns.CNAME
				for _, rr := range s.records[name] {
					switch {
					case rr.Header().Rrtype == q.Qtype:
						m.Answer = append(m.Answer, rr)
					case rr.Header().Rrtype == dns.TypeCNAME && q.Qtype != dns.TypeCNAME:
						cname = rr.(*dns.CNAME)
					}
				}
				if cname == nil {
					break
				}
				m.Answer = append(m.Answer, cname)
				name = strings.ToLower(cname.Target)
			}
			for _, rr := range m.Answer {
				if srv, ok := rr.(*dns.SRV); ok {
					for _, a := range s.records[strings.ToLower(srv.Target)] {
						if t := a.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
							m.Extra = append(m.Extra, a)
						}
					}
				}
			}
		}
		s.mu.Unlock()
	}
	_ = w.WriteMsg(m)
}

// Clock is a clock moved by hand, for a client's Config.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock at a fixed time.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Client is a DNS client asking s only, with Kong's defaults, an empty
// resolv.conf (no search domain), hosts as its hosts file's content, on
// clk (nil: the real clock); edit changes its configuration. Its
// background refreshes are waited for when the test ends.
func (s *Server) Client(t testing.TB, clk *Clock, hosts string, edit ...func(*dnsclient.Config)) *dnsclient.Client {
	t.Helper()
	dir := t.TempDir()
	hf, rc := filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(hf, []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rc, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := dnsclient.DefaultConfig()
	cfg.Nameservers = []string{s.Addr}
	cfg.HostsFile, cfg.ResolvConf = hf, rc
	if clk != nil {
		cfg.Now = clk.Now
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := dnsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Wait)
	return c
}
