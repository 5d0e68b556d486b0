package host

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// Two nodes on one PostgreSQL: a write through one evicts the cached
// entity in the other, through Kong's cluster_events — at once with
// LISTEN/NOTIFY, and within db_update_frequency when polling alone.
func TestTwoNodesInvalidateEachOther(t *testing.T) {
	// With NOTIFY, polling is slowed to an hour so that only the
	// notification can evict within the test's deadline; without it,
	// eviction waits for the next poll (db_update_frequency = 1 s). How
	// fast each is belongs to benchmarks (kongdb/events
	// BenchmarkNotifyRoundTrip), not to this test.
	for _, tc := range []struct {
		name, notify, freq string
	}{
		{"notify", "on", "3600"},
		{"polling", "off", "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := pgtest.NewDatabase(t)
			ctx := context.Background()
			conn, err := postgres.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var out bytes.Buffer
			_, m := migrator(t, "../plugins", conn, &out)
			if err := m.Bootstrap(ctx, false); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			node := func() *Host {
				c := testConf(t, "../plugins")
				for k, v := range map[string]string{"database": "postgres", "pg_host": cfg.Host,
					"pg_port": fmt.Sprint(cfg.Port), "pg_user": cfg.User, "pg_database": cfg.Database,
					"pg_notify": tc.notify, "db_update_frequency": tc.freq, "worker_max": "2"} {
					c.Set(k, v, "test")
				}
				return newTestHost(t, c)
			}
			a, b := node(), node()
			if a.Root.NodeIDValue() == b.Root.NodeIDValue() {
				t.Fatal("two hosts share a node id")
			}

			consumer, err := a.Root.DB.DAO("consumers").Insert(ctx, map[string]any{"username": "carol"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			cred, err := a.Root.DB.DAO("token_credentials").Insert(ctx, map[string]any{
				"consumer": map[string]any{"id": consumer["id"]}, "key": "node-key"}, nil)
			if err != nil {
				t.Fatal(err)
			}

			// Node B caches the credential the way seed 001's handler does.
			const load = `
				local key = kong.db.token_credentials:cache_key("node-key")
				local cred, err, hit = kong.cache:get(key, nil, function()
					return kong.db.token_credentials:select_by_key("node-key")
				end)
				assert(cred, err)
				return hit`
			const probe = `
				local ttl, err, value = kong.cache:probe(kong.db.token_credentials:cache_key("node-key"))
				return value ~= nil`
			eval := func(h *Host, src string) lua.LValue {
				var v lua.LValue
				err := h.Pool.AcquireFunc(ctx, func(w *Worker) error {
					fn, err := w.L.LoadString(src)
					if err != nil {
						return err
					}
					if err := w.call(fn, 1); err != nil {
						return err
					}
					v = w.L.Get(-1)
					w.L.Pop(1)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			// Node A's inserts broadcast invalidations; under load they
			// could reach node B after its first get and evict what it
			// cached. Take them now: Poll delivers synchronously, and a
			// late NOTIFY of a row already seen is not delivered again.
			if err := b.Root.ClusterEvents.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if hit := eval(b, load); hit != lua.LNumber(3) {
				t.Fatalf("first get hit level %v, want 3", hit)
			}
			if hit := eval(b, load); hit == lua.LNumber(3) {
				t.Fatal("second get ran the callback again")
			}

			start := time.Now()
			if _, err := a.Root.DB.DAO("token_credentials").Update(ctx, map[string]any{"id": cred["id"]},
				map[string]any{"label": "changed on A"}, nil); err != nil {
				t.Fatal(err)
			}
			deadline := start.Add(30 * time.Second)
			for eval(b, probe) == lua.LTrue {
				if time.Now().After(deadline) {
					t.Fatalf("node B still has the entity cached %v after node A's write", time.Since(start))
				}
				time.Sleep(5 * time.Millisecond) // polling interval
			}
			t.Logf("evicted on the other node after %v (pg_notify=%s)", time.Since(start), tc.notify)
			// L2 goes first, then each worker's L1 through its inbox: a
			// get in between still hits its worker's L1 (level 1), as in
			// Kong; it must then reload (level 3), never read L2 (level 2).
			hit := eval(b, load)
			for hit == lua.LNumber(1) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond) // polling interval
				hit = eval(b, load)
			}
			if hit != lua.LNumber(3) {
				t.Fatalf("get after eviction: hit level %v, want 3 (reload)", hit)
			}
		})
	}
}

// On PostgreSQL an entity write and its invalidation row in cluster_events
// commit together (Kong/kong#8176): when the row cannot be written, the
// write does not happen either.
func TestInvalidationCommitsWithTheWrite(t *testing.T) {
	c := testConf(t, "../plugins")
	ctx := context.Background()
	conn := freshConnector(t)
	var out bytes.Buffer
	_, m := migrator(t, "../plugins", conn, &out)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	cfg := conn.Config()
	for k, v := range map[string]string{"database": "postgres", "pg_host": cfg.Host, "pg_port": fmt.Sprint(cfg.Port),
		"pg_user": cfg.User, "pg_database": cfg.Database} {
		c.Set(k, v, "test")
	}
	h := newTestHost(t, c)
	consumers := h.Root.DB.DAO("consumers")
	bob, err := consumers.Insert(ctx, map[string]any{"username": "bob"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := consumers.CacheKey(ctx, map[string]any(bob))
	if err != nil {
		t.Fatal(err)
	}
	res, err := conn.Query(ctx, `SELECT count(*) AS n FROM cluster_events WHERE channel = 'invalidations' AND data = `+
		"'"+key+"'")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0]["n"] != float64(1) {
		t.Fatalf("the insert's invalidation row: %v", res.Rows)
	}

	if _, err := conn.Query(ctx, `ALTER TABLE cluster_events RENAME TO cluster_events_away`); err != nil {
		t.Fatal(err)
	}
	_, err = consumers.Update(ctx, map[string]any{"id": bob["id"]}, map[string]any{"username": "robert"}, nil)
	if err == nil {
		t.Fatal("the update succeeded although its invalidation could not be written")
	}
	if _, err := conn.Query(ctx, `ALTER TABLE cluster_events_away RENAME TO cluster_events`); err != nil {
		t.Fatal(err)
	}
	row, err := consumers.Select(ctx, map[string]any{"id": bob["id"]}, nil)
	if err != nil || row["username"] != "bob" {
		t.Fatalf("the failed update was not rolled back: %v %v", row, err)
	}
	if _, err := consumers.Update(ctx, map[string]any{"id": bob["id"]}, map[string]any{"username": "robert"}, nil); err != nil {
		t.Fatalf("update once cluster_events is back: %v", err)
	}
}
