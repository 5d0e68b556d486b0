package check

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// subsystemsOf loads plugins (NoDB) and returns the host and Kong's
// subsystems: core, then the plugins'.
func subsystemsOf(t *testing.T, dir string, plugins string) (*host.Host, []*migrations.Subsystem) {
	t.Helper()
	c := confFor(dir)
	c.Set("plugins", plugins, "test")
	c.Set("mem_cache_size", "2m", "test")
	h, err := host.New(host.Options{Conf: c, NoDB: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	subs, err := h.Subsystems()
	if err != nil {
		t.Fatal(err)
	}
	return h, subs
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "plan", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -run %s -update rewrites it):\n%s", path, t.Name(), got)
	}
}

// planText is the plan as printed, with UUIDs replaced: core's 009 writes
// the default workspace's id, random per run as Kong's.
func planText(t *testing.T, p *Plan) []byte {
	var b bytes.Buffer
	p.WriteText(&b)
	return uuidRe.ReplaceAll(b.Bytes(), []byte("<uuid>"))
}

var uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// On an empty database the plan is the bootstrap: every step of core's
// migrations (the exact SQL) and of the example plugin's, the Lua
// teardown named with its file and line.
func TestPlanBootstrap(t *testing.T) {
	_, subs := subsystemsOf(t, "../plugins", "token-auth")
	conn := pgtest.Open(t)
	plan, err := PlanMigrations(context.Background(), conn, subs, StepLocator(map[string]string{"token-auth": "../plugins/token-auth"}))
	if err != nil {
		t.Fatal(err)
	}
	if !plan.NeedsBootstrap {
		t.Error("an empty database needs bootstrapping")
	}
	golden(t, "bootstrap.golden", planText(t, plan))
	var raw bytes.Buffer
	plan.WriteText(&raw)
	got := raw.Bytes()
	// every up SQL of core is in the plan, as it will be sent
	for _, m := range subs[0].Migrations {
		for _, line := range strings.Split(strings.TrimSpace(m.Up), "\n") {
			if strings.TrimSpace(line) != "" && !bytes.Contains(got, []byte(line)) {
				t.Fatalf("core %s: line %q not in the plan", m.Name, line)
			}
		}
	}
}

// On a database where core is up to date, up would run the plugin's two
// migrations' SQL and finish the teardown up leaves pending; after up,
// only finish is left; after finish, nothing.
func TestPlanUpFinish(t *testing.T) {
	h, subs := subsystemsOf(t, "../plugins", "token-auth")
	conn := pgtest.Open(t)
	ctx := context.Background()
	core := &migrations.Migrator{Conn: conn, Subsystems: subs[:1], Owner: "test"}
	if err := core.Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	loc := StepLocator(map[string]string{"token-auth": "../plugins/token-auth"})
	plan, err := PlanMigrations(ctx, conn, subs, loc)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "up_finish.golden", planText(t, plan))

	m := &migrations.Migrator{Conn: conn, Subsystems: subs, Runner: h, Owner: "test"}
	if err := m.Up(ctx, false); err != nil {
		t.Fatal(err)
	}
	if plan, err = PlanMigrations(ctx, conn, subs, loc); err != nil {
		t.Fatal(err)
	}
	golden(t, "finish.golden", planText(t, plan))
	if err := m.Finish(ctx, false); err != nil {
		t.Fatal(err)
	}
	if plan, err = PlanMigrations(ctx, conn, subs, loc); err != nil {
		t.Fatal(err)
	}
	golden(t, "uptodate.golden", planText(t, plan))
}

// --check-reentrant catches the fixture whose CREATE TABLE has no IF NOT
// EXISTS, on the second run only, and passes core and the example plugin.
func TestCheckReentrant(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	h, subs := subsystemsOf(t, "testdata/db", "reentry")
	fails, err := CheckReentrant(context.Background(), cfg, subs, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 1 || fails[0].Subsystem != "reentry" || fails[0].Migration != "000_base" || fails[0].Step != "up" || fails[0].FirstRun ||
		!strings.Contains(fails[0].Err, "already exists") {
		t.Fatalf("failures: %+v", fails)
	}
	h, subs = subsystemsOf(t, "../plugins", "token-auth")
	if fails, err = CheckReentrant(context.Background(), cfg, subs, h); err != nil || len(fails) != 0 {
		t.Fatalf("token-auth and core: %+v %v", fails, err)
	}
}
