package admin

import (
	"io"
	"log/slog"
	"regexp"
	"testing"
)

// GET / as Kong's: edition, timers, and the configuration with the
// sensitive properties hidden and kong.configuration's types.
func TestRootAsKong(t *testing.T) {
	c := testConf()
	c.Set("pg_password", "hide_me", "test")
	n := startAdmin(t, newHost(t, c))
	root := n.must(200, "GET", "/", nil)
	if root["edition"] != "community" {
		t.Errorf("edition %v", root["edition"])
	}
	if tm, ok := root["timers"].(M); !ok || tm["running"] == nil || tm["pending"] == nil {
		t.Errorf("timers %v", root["timers"])
	}
	cfg, _ := root["configuration"].(M)
	if cfg["pg_password"] != "******" {
		t.Errorf("pg_password %v", cfg["pg_password"])
	}
	if _, ok := cfg["pg_port"].(float64); !ok {
		t.Errorf("pg_port %#v", cfg["pg_port"])
	}
	if _, ok := cfg["plugins"].([]any); !ok {
		t.Errorf("plugins %#v", cfg["plugins"])
	}
	if cfg["log_level"] == nil {
		t.Errorf("no log_level")
	}
}

// GET /status as Kong's health.lua: unit and scale checked (400 with
// bytes_to_str's message) and applied to kong.node.get_memory_stats'
// figures; the database's reachability, or with a DB-less node's
// configuration hash instead (Kong's empty one before any).
func TestStatusAsKong(t *testing.T) {
	h := newHost(t, testConf())
	n := startAdmin(t, h)
	if got := n.must(400, "GET", "/status?unit=V", nil); got["message"] != "invalid unit 'V' (expected 'k/K', 'm/M', or 'g/G')" {
		t.Errorf("unit V: %v", got)
	}
	if got := n.must(400, "GET", "/status?unit=k&scale=-1", nil); got["message"] != "scale must be equal or greater than 0" {
		t.Errorf("scale -1: %v", got)
	}
	vm := func(st M) any {
		mem, _ := st["memory"].(M)
		vms, _ := mem["workers_lua_vms"].([]any)
		if len(vms) == 0 {
			t.Fatalf("no workers_lua_vms: %v", st)
		}
		return vms[0].(M)["http_allocated_gc"]
	}
	for q, re := range map[string]string{"": `^\d+\.\d\d MiB$`, "?unit=k": `^\d+\.\d\d KiB$`, "?scale=3": `^\d+\.\d{3} MiB$`} {
		st := n.must(200, "GET", "/status"+q, nil)
		if s, _ := vm(st).(string); !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("/status%s: %v", q, vm(st))
		}
		if db, _ := st["database"].(M); db["reachable"] != true || st["configuration_hash"] != nil {
			t.Errorf("/status%s database %v, hash %v", q, st["database"], st["configuration_hash"])
		}
	}
	if _, ok := vm(n.must(200, "GET", "/status?unit=b", nil)).(float64); !ok {
		t.Errorf("unit b: not a number")
	}

	hash := ""
	s, err := New(Options{Host: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ConfigHash: func() string { return hash }})
	if err != nil {
		t.Fatal(err)
	}
	dbless := serveAdmin(t, h, s)
	st := dbless.must(200, "GET", "/status", nil)
	if st["configuration_hash"] != "00000000000000000000000000000000" || st["database"] != nil {
		t.Errorf("DB-less, nothing loaded: %v", st)
	}
	hash = "0123456789abcdef0123456789abcdef"
	if st := dbless.must(200, "GET", "/status", nil); st["configuration_hash"] != hash {
		t.Errorf("DB-less: %v", st)
	}
}
