package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A kong.conf file, then KONG_* variables, override Kong's defaults.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kong.conf")
	err := os.WriteFile(p, []byte(`
# a comment
database = postgres        # trailing comment
pg_password = s\#cret
plugins = bundled, token-auth
mem_cache_size = 64m
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	c := New()
	if c.Get("database") != "off" || c.Source("database") != "default" {
		t.Fatalf("default database: %q", c.Get("database"))
	}
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	c.LoadEnv([]string{"KONG_PG_HOST=db.local", "PATH=/bin", "KONG_DATABASE=postgres"})
	for k, want := range map[string]string{"database": "postgres", "pg_password": "s#cret", "pg_host": "db.local"} {
		if got := c.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := c.List("plugins"); len(got) != 2 || got[1] != "token-auth" {
		t.Errorf("plugins list %v", got)
	}
	if got := c.Size("mem_cache_size", 0); got != 64<<20 {
		t.Errorf("mem_cache_size = %d", got)
	}
	if c.Source("pg_host") != "env KONG_PG_HOST" {
		t.Errorf("source %q", c.Source("pg_host"))
	}
}

func TestBadLineNamesFileAndLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kong.conf")
	if err := os.WriteFile(p, []byte("database = off\nnot a setting\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := New().LoadFile(p)
	if err == nil || err.Error() != p+`:2: expected 'key = value', got "not a setting"` {
		t.Fatalf("got %v", err)
	}
}

// A typed property that does not parse is refused with Kong's message
// instead of being replaced by its default (pg_port = abc connected to
// 5432).
func TestCheckRefusesUnparsableValues(t *testing.T) {
	c := New()
	if err := c.Check(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c.Set("pg_port", "abc", "test")
	c.Set("pg_timeout", "5s", "test")
	c.Set("pg_ssl", "maybe", "test")
	c.Set("pg_pool_size", "", "test") // unset
	err := c.Check()
	want := "pg_port is not a number: 'abc'\npg_timeout is not a number: '5s'\npg_ssl is not a boolean: 'maybe'"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	c.Set("pg_port", "5433", "test")
	c.Set("pg_timeout", "2500", "test")
	c.Set("pg_ssl", "on", "test")
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
}

// The dns_* properties are checked with Kong's messages (conf_loader's
// parse.lua).
func TestCheckDNS(t *testing.T) {
	c := New()
	c.Set("dns_resolver", "8.8.8.8, [::1]:53, dns.test:53", "test")
	c.Set("dns_hostsfile", filepath.Join(t.TempDir(), "none"), "test")
	c.Set("dns_order", "LAST,srv,MX", "test")
	c.Set("dns_stale_ttl", "an hour", "test")
	c.Set("dns_no_sync", "sometimes", "test")
	want := "dns_stale_ttl is not a number: 'an hour'\ndns_no_sync is not a boolean: 'sometimes'\n" +
		"dns_resolver must be a comma separated list in the form of IPv4/6 or IPv4/6:port, got 'dns.test:53'\n" +
		"dns_hostsfile: file does not exist\ndns_order: invalid entry 'MX'"
	if err := c.Check(); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// allow_debug_header is Kong's boolean, off by default.
func TestAllowDebugHeader(t *testing.T) {
	c := New()
	if c.Get("allow_debug_header") != "off" || c.Bool("allow_debug_header") {
		t.Fatalf("default %q", c.Get("allow_debug_header"))
	}
	c.Set("allow_debug_header", "sometimes", "test")
	if err := c.Check(); err == nil || err.Error() != "allow_debug_header is not a boolean: 'sometimes'" {
		t.Fatalf("got %v", err)
	}
}

// worker_consistency is Kong's enum, eventual by default.
func TestWorkerConsistency(t *testing.T) {
	c := New()
	if c.Get("worker_consistency") != "eventual" {
		t.Fatalf("default %q", c.Get("worker_consistency"))
	}
	c.Set("worker_consistency", "strict", "test")
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	c.Set("worker_consistency", "eager", "test")
	if err := c.Check(); err == nil || err.Error() != "worker_consistency has an invalid value: 'eager' (strict, eventual)" {
		t.Fatalf("got %v", err)
	}
}

// The listen entries default to Kong's (kong/templates/kong_defaults.lua):
// https on 8443 and 8444 beside 8000 and 8001, HTTP/2 on those; the
// Status API on 127.0.0.1:8007.
func TestListenDefaultsAreKongs(t *testing.T) {
	c := New()
	for k, want := range map[string]string{
		"proxy_listen": "0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384",
		"admin_listen": "127.0.0.1:8001 reuseport backlog=16384, 127.0.0.1:8444 http2 ssl reuseport backlog=16384",
		// on since Kong 3.6 (Kong/kong#12304; off before)
		"status_listen": "127.0.0.1:8007 reuseport backlog=16384",
	} {
		if got := c.Get(k); got != want {
			t.Errorf("%s = %q, want Kong's %q", k, got, want)
		}
	}
}

// role: Kong's enum message for a value Kong refuses; control_plane and
// data_plane, which Kong takes, refused naming why (no hybrid mode), so a
// spec starting a control plane fails instead of running a plain node.
func TestCheckRole(t *testing.T) {
	c := New()
	for _, ok := range []string{"", "traditional"} {
		c.Set("role", ok, "test")
		if err := c.Check(); err != nil {
			t.Fatalf("role %q: %v", ok, err)
		}
	}
	c.Set("role", "edge", "test")
	if err := c.Check(); err == nil || err.Error() != "role has an invalid value: 'edge' (data_plane, control_plane, traditional)" {
		t.Fatalf("edge: %v", err)
	}
	c.Set("role", "control_plane", "test")
	if err := c.Check(); err == nil || !strings.Contains(err.Error(), "role = control_plane: luahost has no hybrid mode") {
		t.Fatalf("control_plane: %v", err)
	}
}

// router_flavor is Kong's enum, traditional_compatible by default.
func TestRouterFlavor(t *testing.T) {
	c := New()
	if c.Get("router_flavor") != "traditional_compatible" {
		t.Fatalf("default %q", c.Get("router_flavor"))
	}
	c.Set("router_flavor", "traditional", "test")
	if err := c.Check(); err != nil {
		t.Fatal(err)
	}
	c.Set("router_flavor", "atc", "test")
	if err := c.Check(); err == nil || err.Error() != "router_flavor has an invalid value: 'atc' (traditional, traditional_compatible, expressions)" {
		t.Fatalf("got %v", err)
	}
}

// node_id, when set, must be a UUID (Kong's conf_loader).
func TestCheckNodeID(t *testing.T) {
	c := New()
	for _, ok := range []string{"", "592e1c2b-6678-45aa-80f9-78cfb29f5e31", "592E1C2B-6678-45AA-80F9-78CFB29F5E31"} {
		c.Set("node_id", ok, "test")
		if err := c.Check(); err != nil {
			t.Fatalf("node_id %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"nope", "592e1c2b-6678-45aa-80f9-78cfb29f5e3g", "592e1c2b66780-45aa-80f9-78cfb29f5e31"} {
		c.Set("node_id", bad, "test")
		if err := c.Check(); err == nil || err.Error() != "node_id must be a valid UUID" {
			t.Fatalf("node_id %q: %v", bad, err)
		}
	}
}
