package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// A callback that outlives the lock's TTL keeps the lock: the holder
// renews it, so a second node cannot take it while the first still runs
// (a migration longer than --lock-timeout ran twice at once).
func TestClusterMutexRenewedWhileRunning(t *testing.T) {
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
	a, b := open(), open()
	if err := a.SetupLocks(ctx); err != nil {
		t.Fatal(err)
	}
	const ttl = time.Second
	ran, err := a.ClusterMutex(ctx, "migrations", postgres.MutexOptions{TTL: ttl, Owner: "a"}, func(ctx context.Context) error {
		var first time.Time
		if err := a.Pool().QueryRow(ctx, `SELECT ttl FROM locks WHERE key = 'migrations'`).Scan(&first); err != nil {
			return err
		}
		// Poll until the database clock is past the lock's first expiry
		// twice over; all the while, node b must be refused.
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, err := b.InsertLock(ctx, "migrations", ttl, "b")
			if err != nil {
				return err
			}
			if ok {
				t.Error("node b took the lock while node a's callback was running")
				return nil
			}
			var past bool
			if err := a.Pool().QueryRow(ctx, `SELECT CURRENT_TIMESTAMP > $1::timestamptz + make_interval(secs => 1)`, first).Scan(&past); err != nil {
				return err
			}
			if past {
				return nil
			}
			if time.Now().After(deadline) {
				t.Error("the database clock did not move")
				return nil
			}
			time.Sleep(20 * time.Millisecond) // polling interval
		}
	})
	if err != nil || !ran {
		t.Fatalf("ran %v err %v", ran, err)
	}
	// Released: node b takes it at once.
	if ok, err := b.InsertLock(ctx, "migrations", ttl, "b"); !ok || err != nil {
		t.Fatalf("after release: %v %v", ok, err)
	}
}
