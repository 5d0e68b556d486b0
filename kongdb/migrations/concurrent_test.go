package migrations

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// Two nodes (separate pools, separate lock owners) run `up` at once: the
// migrations never interleave and each runs exactly once.
func TestConcurrentUpNeverInterleaves(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.NewDatabase(t)
	open := func() *postgres.Connector {
		c, err := postgres.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	c1, c2 := open(), open()
	m0 := &Migrator{Conn: c1, Subsystems: []*Subsystem{Core()}}
	if err := m0.Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	// Each step records itself with a start/end pair; a slow step makes
	// the window wide.
	mustQuery(t, c1, `CREATE TABLE trace (n BIGSERIAL, what TEXT)`)
	var migs []*Migration
	for _, name := range []string{"000_slow", "001_slow", "002_slow"} {
		name := name
		migs = append(migs, &Migration{Name: name, UpFGo: func(ctx context.Context, c *postgres.Connector) error {
			if _, err := c.Query(ctx, "INSERT INTO trace (what) VALUES ('start "+name+"')"); err != nil {
				return err
			}
			time.Sleep(150 * time.Millisecond)
			_, err := c.Query(ctx, "INSERT INTO trace (what) VALUES ('end "+name+"')")
			return err
		}})
	}
	sub := &Subsystem{Name: "slow", Namespace: "kong.plugins.slow.migrations", Migrations: migs}
	var wg sync.WaitGroup
	outs := make([]*bytes.Buffer, 2)
	errs := make([]error, 2)
	for i, c := range []*postgres.Connector{c1, c2} {
		i, c := i, c
		outs[i] = &bytes.Buffer{}
		m := &Migrator{Conn: c, Subsystems: []*Subsystem{Core(), sub}, Out: outs[i], Owner: []string{"node-a", "node-b"}[i]}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.Up(ctx, false) }()
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
	}
	r := mustQuery(t, c1, "SELECT what FROM trace ORDER BY n")
	var got []string
	for _, row := range r.Rows {
		got = append(got, row["what"].(string))
	}
	want := "start 000_slow,end 000_slow,start 001_slow,end 001_slow,start 002_slow,end 002_slow"
	if strings.Join(got, ",") != want {
		t.Fatalf("trace %v", got)
	}
	// One node migrated; the other waited and found nothing to do.
	both := outs[0].String() + "\n----\n" + outs[1].String()
	if strings.Count(both, "slow migrated up to: 002_slow (executed)") != 1 {
		t.Fatalf("logs:\n%s", both)
	}
	if !strings.Contains(both, "Database is already up-to-date") && !strings.Contains(both, NotLeaderMsg) {
		t.Fatalf("second node log:\n%s", both)
	}
	r = mustQuery(t, c1, "SELECT count(*) AS n FROM locks")
	if r.Rows[0]["n"] != float64(0) {
		t.Fatalf("lock left behind: %v", r.Rows)
	}
}

// Two nodes bootstrap at once: one migrates, the other stands aside, and
// nothing runs twice.
func TestConcurrentBootstrap(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	outs := make([]*bytes.Buffer, 2)
	errs := make([]error, 2)
	for i := 0; i < 2; i++ {
		c, err := postgres.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		i := i
		outs[i] = &bytes.Buffer{}
		m := &Migrator{Conn: c, Subsystems: []*Subsystem{Core()}, Out: outs[i], Owner: []string{"a", "b"}[i]}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.Bootstrap(ctx, false) }()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errors: %v / %v\n%s\n----\n%s", errs[0], errs[1], outs[0], outs[1])
	}
	both := outs[0].String() + outs[1].String()
	if n := strings.Count(both, "core migrated up to: 000_base (executed)"); n != 1 {
		t.Fatalf("000_base ran %d times:\n%s", n, both)
	}
	c, _ := postgres.Open(ctx, cfg)
	defer c.Close()
	r := mustQuery(t, c, "SELECT array_length(executed, 1) AS n FROM schema_meta")
	if len(r.Rows) != 1 || r.Rows[0]["n"] != float64(24) {
		t.Fatalf("schema_meta: %v", r.Rows)
	}
}
