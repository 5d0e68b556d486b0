package dnsclient_test

import (
	"context"
	"errors"
	"testing"

	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/dnsclient/dnstest"
)

func mockRecords() map[uint16]map[string][]dnsclient.Record {
	return map[uint16]map[string][]dnsclient.Record{
		dnsclient.TypeA: {
			"mocked.test": {{Type: dnsclient.TypeA, Name: "mocked.test", Address: "10.9.9.9", TTL: 600}},
		},
		dnsclient.TypeSRV: {
			"srv.test": {{Type: dnsclient.TypeSRV, Name: "srv.test", Target: "mocked.test", Port: 8443, Weight: 10, Priority: 20, TTL: 600}},
		},
	}
}

// A mocked name and type answer without a query, an SRV's target through
// the mocked A record; what is not mocked is asked of the nameservers.
func TestMockAnswersFirst(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("mocked.test", dnsclient.TypeA, "mocked.test. 30 IN A 10.0.0.1")
	srv.Set("real.test", dnsclient.TypeA, "real.test. 30 IN A 10.0.0.9")
	c := newClient(t, srv, newClock(), "", func(cfg *dnsclient.Config) {
		cfg.Mock = &dnsclient.Mock{Records: mockRecords()}
	})
	if ip, port := toIP(t, c, "mocked.test", 80); ip != "10.9.9.9" || port != 80 {
		t.Fatalf("mocked A: %s:%d", ip, port)
	}
	if n := srv.Queries("mocked.test", dnsclient.TypeA); n != 0 {
		t.Fatalf("the server was asked for a mocked A record %d times", n)
	}
	if ip, port := toIP(t, c, "srv.test", 80); ip != "10.9.9.9" || port != 8443 {
		t.Fatalf("mocked SRV: %s:%d, want the mocked target's address and the record's port", ip, port)
	}
	if ip, _ := toIP(t, c, "real.test", 80); ip != "10.0.0.9" {
		t.Fatalf("a name not mocked: %s, want the server's answer", ip)
	}
}

// mocks_only: a name not mocked gets empty answers (Kong's 503 "name
// resolution failed"), and no nameserver is asked.
func TestMockMocksOnly(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("real.test", dnsclient.TypeA, "real.test. 30 IN A 10.0.0.9")
	c := newClient(t, srv, newClock(), "", func(cfg *dnsclient.Config) {
		cfg.Mock = &dnsclient.Mock{Records: mockRecords(), MocksOnly: true}
	})
	_, _, err := c.ToIP(context.Background(), "real.test", 80, false)
	if !errors.Is(err, dnsclient.ErrNameResolution) {
		t.Fatalf("a name not mocked with mocks_only: %v, want a name resolution failure", err)
	}
	if n := srv.Queries("real.test", dnsclient.TypeA) + srv.Queries("real.test", dnsclient.TypeSRV); n != 0 {
		t.Fatalf("the server was asked %d times", n)
	}
	if ip, _ := toIP(t, c, "mocked.test", 80); ip != "10.9.9.9" {
		t.Fatalf("mocked A with mocks_only: %s", ip)
	}
}

// Without mocks_only, a query that fails is an empty answer (Kong's mock
// resolver), so the SRV query of a mocked A name does not stop the
// lookup when no nameserver answers.
func TestMockFailedQueryIsEmpty(t *testing.T) {
	srv := dnstest.Start(t)
	c := newClient(t, srv, newClock(), "", func(cfg *dnsclient.Config) {
		cfg.Nameservers = []string{"127.0.0.1:1"}
		cfg.Attempts = 1
		cfg.Mock = &dnsclient.Mock{Records: mockRecords()}
	})
	if ip, _ := toIP(t, c, "mocked.test", 80); ip != "10.9.9.9" {
		t.Fatalf("mocked A behind a failed SRV query: %s", ip)
	}
	_, _, err := c.ToIP(context.Background(), "real.test", 80, false)
	if !errors.Is(err, dnsclient.ErrNameResolution) {
		t.Fatalf("a name not mocked, nameserver down: %v, want a name resolution failure", err)
	}
}
