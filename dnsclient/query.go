package dnsclient

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// exchange sends m to server over network ("udp", "tcp") and reads the
// answer.
func exchange(ctx context.Context, m *dns.Msg, network, server string, timeout time.Duration) (*dns.Msg, error) {
	cl := &dns.Client{Net: network, Timeout: timeout}
	r, _, err := cl.ExchangeContext(ctx, m, server)
	return r, err
}

// query answers qname's records of qtype from the Mock, if any, else asks
// the nameservers (ask), and caches the answer (cacheRecords).
func (c *Client) query(ctx context.Context, qname string, qtype uint16) (*Answer, error) {
	check := strings.TrimSuffix(qname, ".")
	if m := c.cfg.Mock; m != nil {
		if recs, ok := m.answer(check, qtype); ok {
			return c.cacheRecords(qname, qtype, recs), nil
		}
		if m.MocksOnly {
			return c.cacheRecords(qname, qtype, nil), nil
		}
	}
	ans, err := c.ask(ctx, qname, qtype)
	if err != nil && c.cfg.Mock != nil {
		// Kong's mock resolver makes a failed query an empty answer, so
		// that a mocked A record is still reached after the SRV query
		return c.cacheRecords(qname, qtype, nil), nil
	}
	return ans, err
}

// ask asks the nameservers as lua-resty-dns does (recursion desired, no
// EDNS; each attempt to the next server, from the first unless resolv.conf
// says rotate; a truncated answer asked again over TCP) and caches their
// answer.
func (c *Client) ask(ctx context.Context, qname string, qtype uint16) (*Answer, error) {
	if len(c.nameservers) == 0 {
		return nil, errors.New("failed to create a resolver: no nameservers specified")
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(qname), qtype)
	m.RecursionDesired = true
	start := 0
	if c.rotate {
		start = rand.IntN(len(c.nameservers))
	}
	var resp *dns.Msg
	var lastErr error
	for i := 0; i < c.attempts; i++ {
		server := c.nameservers[(start+i)%len(c.nameservers)]
		r, err := c.exchange(ctx, m, "udp", server, c.timeout)
		if err == nil && r.Truncated {
			r, err = c.exchange(ctx, m, "tcp", server, c.timeout)
		}
		if err == nil {
			resp = r
			break
		}
		lastErr = queryError(server, err)
		if ctx.Err() != nil {
			break
		}
	}
	if resp == nil {
		return nil, lastErr
	}
	now := c.now()
	if resp.Rcode != dns.RcodeSuccess {
		ans := &Answer{Code: resp.Rcode, Msg: rcodeText(resp.Rcode)}
		c.insert(ans, qname, qtype, now)
		return ans, nil
	}
	var recs []Record
	for _, rr := range append(resp.Answer, resp.Extra...) {
		if rec, ok := record(rr); ok {
			recs = append(recs, rec)
		}
	}
	return c.cacheRecords(qname, qtype, recs), nil
}

// cacheRecords caches an answer's records as Kong's parseAnswer does: the
// records of other names or types (a CNAME's target, an SRV's targets in
// the additional section) under their own name and type, the rest under
// qname and qtype.
func (c *Client) cacheRecords(qname string, qtype uint16, recs []Record) *Answer {
	now := c.now()
	check := strings.TrimSuffix(qname, ".")
	ans := &Answer{}
	others := map[cacheKey][]Record{}
	var otherKeys []cacheKey
	for _, rec := range recs {
		if rec.Type != qtype || rec.Name != check {
			k := cacheKey{kindRecords, rec.Type, rec.Name}
			if others[k] == nil {
				otherKeys = append(otherKeys, k)
			}
			others[k] = append(others[k], rec)
			continue
		}
		ans.Records = append(ans.Records, rec)
	}
	for _, k := range otherKeys {
		c.insert(&Answer{Records: others[k]}, k.name, k.qtype, now)
		if c.getLast(k.name, now) == 0 {
			c.setLast(k.name, k.qtype)
		}
	}
	c.insert(ans, qname, qtype, now)
	return ans
}

// record converts a resource record to lua-resty-dns's shape: the types
// Kong resolves, names lower case without their final dot.
func record(rr dns.RR) (Record, bool) {
	h := rr.Header()
	r := Record{Type: h.Rrtype, Name: strings.ToLower(strings.TrimSuffix(h.Name, ".")), TTL: h.Ttl}
	switch v := rr.(type) {
	case *dns.A:
		r.Address = v.A.String()
	case *dns.AAAA:
		r.Address = v.AAAA.String()
	case *dns.CNAME:
		r.CNAME = strings.TrimSuffix(v.Target, ".")
	case *dns.SRV:
		r.Target = strings.TrimSuffix(v.Target, ".")
		r.Port, r.Weight, r.Priority = int(v.Port), int(v.Weight), int(v.Priority)
	default:
		return r, false
	}
	return r, true
}

// queryError is lua-resty-dns's message for a failed exchange ("failed
// to receive reply from UDP server 10.0.0.53:53: timeout").
func queryError(server string, err error) error {
	msg := err.Error()
	var ne net.Error
	var errno syscall.Errno
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		msg = "timeout"
	case errors.As(err, &errno):
		msg = errno.Error()
	}
	return errors.New("failed to receive reply from UDP server " + server + ": " + msg)
}
