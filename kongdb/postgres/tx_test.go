package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

func TestTxCommitsOrRollsBackTogether(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	event := func(ctx context.Context, id string) error {
		_, err := f.c.Query(ctx, `INSERT INTO cluster_events (id, node_id, at, expire_at, channel, data)
			VALUES ('`+id+`', '`+uuidN(500)+`', now(), now() + interval '1 hour', 'invalidations', 'consumers:x')`)
		return err
	}
	boom := errors.New("boom")
	err := f.c.Tx(ctx, func(ctx context.Context) error {
		if !f.c.InTx(ctx) {
			t.Fatal("ctx lost the transaction")
		}
		if _, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob"}, f.o); err != nil {
			return err
		}
		if err := event(ctx, uuidN(601)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if r, _ := f.consumers.Select(ctx, kongdb.Row{"id": uuidN(1)}, f.o); r != nil {
		t.Fatal("rolled-back insert visible")
	}
	r, _ := f.c.Query(ctx, "SELECT count(*) AS n FROM cluster_events")
	if r.Rows[0]["n"] != float64(0) {
		t.Fatal("rolled-back event visible")
	}
	err = f.c.Tx(ctx, func(ctx context.Context) error {
		if _, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob"}, f.o); err != nil {
			return err
		}
		// Inside: visible to the transaction itself.
		if r, err := f.consumers.SelectByField(ctx, "username", "bob", f.o); r == nil || err != nil {
			t.Fatalf("own write invisible: %v", err)
		}
		return event(ctx, uuidN(602))
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := f.consumers.Select(ctx, kongdb.Row{"id": uuidN(1)}, f.o); r == nil {
		t.Fatal("committed insert missing")
	}
	r, _ = f.c.Query(ctx, "SELECT count(*) AS n FROM cluster_events")
	if r.Rows[0]["n"] != float64(1) {
		t.Fatal("committed event missing")
	}
}

func TestMaxConcurrentQueries(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	cfg.MaxConcurrentQueries = 1
	cfg.SemaphoreTimeout = 100 * time.Millisecond
	c, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The first query holds the only slot, blocked on an advisory lock the
	// test holds (the pool itself is not behind the semaphore).
	ctx := context.Background()
	blocker, err := c.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Release()
	if _, err := blocker.Exec(ctx, "SELECT pg_advisory_lock(4242)"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { _, err := c.Query(ctx, "SELECT pg_advisory_xact_lock(4242)"); done <- err }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := c.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE '%xact_lock(4242)%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first query never started")
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	_, err = c.Query(context.Background(), "SELECT 1")
	if err == nil || err.Error() != "error acquiring query semaphore: timeout" {
		t.Fatalf("second query: %v", err)
	}
	if _, err := blocker.Exec(ctx, "SELECT pg_advisory_unlock(4242)"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(context.Background(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}

// With a read replica configured, strategy reads go to it, writes and
// WithPrimary reads to the primary. The "replica" here is another database
// holding a different row, so the test sees where each read went.
func TestReadReplica(t *testing.T) {
	ctx := context.Background()
	primary := migrationstest.Bootstrapped(t)
	replica := migrationstest.Bootstrapped(t)
	cfg := primary.Config()
	rcfg := replica.Config()
	cfg.ReadOnly = &rcfg
	c, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cs := consumersSchema()
	st, err := c.NewStrategy(cs)
	if err != nil {
		t.Fatal(err)
	}
	ws := func(conn *postgres.Connector) string {
		r, err := conn.Query(ctx, "SELECT id FROM workspaces WHERE name = 'default'")
		if err != nil {
			t.Fatal(err)
		}
		return r.Rows[0]["id"].(string)
	}
	wsP, wsR := ws(primary), ws(replica)
	if _, err := replica.Query(ctx, `INSERT INTO consumers (id, username, ws_id) VALUES ('`+uuidN(1)+`', 'on-replica', '`+wsR+`')`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "on-primary"}, &kongdb.Options{Workspace: wsP}); err != nil {
		t.Fatal(err)
	}
	r, err := st.Select(ctx, kongdb.Row{"id": uuidN(1)}, &kongdb.Options{GlobalWorkspace: true})
	if err != nil || r["username"] != "on-replica" {
		t.Fatalf("read: %v %v", r, err)
	}
	r, err = st.Select(postgres.WithPrimary(ctx), kongdb.Row{"id": uuidN(1)}, &kongdb.Options{GlobalWorkspace: true})
	if err != nil || r["username"] != "on-primary" {
		t.Fatalf("primary read: %v %v", r, err)
	}
}
