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
	open := func() *postgres.Connector { return pgtest.Connect(t, cfg) }
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

// Two nodes bootstrap at once: one migrates, the other waits for it and
// reports "Database already bootstrapped"; nothing runs twice and neither
// fails on the other's half-made tables.
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
	if n := strings.Count(both, "Database already bootstrapped"); n != 1 {
		t.Fatalf("the second node did not report the bootstrap:\n%s", both)
	}
	c, _ := postgres.Open(ctx, cfg)
	defer c.Close()
	r := mustQuery(t, c, "SELECT array_length(executed, 1) AS n FROM schema_meta")
	if len(r.Rows) != 1 || r.Rows[0]["n"] != float64(24) {
		t.Fatalf("schema_meta: %v", r.Rows)
	}
}

// The race of TestConcurrentBootstrap made deterministic: node B starts
// while node A is inside its bootstrap (schema_meta and locks exist, the
// migrations have not finished). B must wait for A, then report the
// database bootstrapped; it must neither fail on A's tables nor report
// success before A is done.
func TestBootstrapWaitsForRunningBootstrap(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.NewDatabase(t)
	open := func() *postgres.Connector { return pgtest.Connect(t, cfg) }
	entered, release := make(chan struct{}), make(chan struct{})
	gate := &Subsystem{Name: "gate", Namespace: "kong.plugins.gate.migrations", Migrations: []*Migration{
		{Name: "000_gate", UpFGo: func(ctx context.Context, c *postgres.Connector) error {
			close(entered)
			<-release
			return nil
		}},
	}}
	var mu sync.Mutex
	var order []string
	finished := func(who string) { mu.Lock(); order = append(order, who); mu.Unlock() }
	outA, outB := &bytes.Buffer{}, &bytes.Buffer{}
	a := &Migrator{Conn: open(), Subsystems: []*Subsystem{Core(), gate}, Out: outA, Owner: "a"}
	cb := open()
	b := &Migrator{Conn: cb, Subsystems: []*Subsystem{Core(), gate}, Out: outB, Owner: "b"}
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() { err := a.Bootstrap(ctx, false); finished("a"); errA <- err }()
	<-entered
	bDone := make(chan struct{})
	go func() { err := b.Bootstrap(ctx, false); finished("b"); errB <- err; close(bDone) }()
	// Wait until B is either blocked on a lock or (the bug) finished.
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-bDone:
		default:
			r := mustQuery(t, cb, `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
			if r.Rows[0]["n"] == float64(0) {
				if time.Now().After(deadline) {
					t.Fatal("node B neither waited nor finished")
				}
				time.Sleep(5 * time.Millisecond) // polling interval
				continue
			}
		}
		break
	}
	close(release)
	if err := <-errA; err != nil {
		t.Fatalf("node A: %v\n%s", err, outA)
	}
	if err := <-errB; err != nil {
		t.Fatalf("node B: %v\n%s", err, outB)
	}
	if strings.Join(order, ",") != "a,b" {
		t.Fatalf("node B finished before node A's bootstrap did: %v\nB:\n%s", order, outB)
	}
	if !strings.Contains(outB.String(), "Database already bootstrapped") {
		t.Fatalf("node B log:\n%s", outB)
	}
}
