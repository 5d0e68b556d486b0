package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// kongClusterEventsDDL is the cluster_events table as Kong's core
// migrations leave it (000_base + 004_110_to_120 index).
const kongClusterEventsDDL = `
CREATE TABLE IF NOT EXISTS "cluster_events" (
  "id"         UUID                       PRIMARY KEY,
  "node_id"    UUID                       NOT NULL,
  "at"         TIMESTAMP WITH TIME ZONE   NOT NULL,
  "nbf"        TIMESTAMP WITH TIME ZONE,
  "expire_at"  TIMESTAMP WITH TIME ZONE   NOT NULL,
  "channel"    TEXT,
  "data"       TEXT
);
CREATE INDEX IF NOT EXISTS "cluster_events_at_idx" ON "cluster_events" ("at");
CREATE INDEX IF NOT EXISTS "cluster_events_channel_idx" ON "cluster_events" ("channel");
CREATE INDEX IF NOT EXISTS cluster_events_expire_at_idx ON cluster_events(expire_at);
`

func serverConnString() string {
	host, port, user := os.Getenv("PGHOST"), os.Getenv("PGPORT"), os.Getenv("PGUSER")
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	if user == "" {
		user = "postgres"
	}
	s := "host=" + host + " port=" + port + " user=" + user + " sslmode=disable"
	if pw := os.Getenv("PGPASSWORD"); pw != "" {
		s += " password=" + pw
	}
	return s
}

// testDB creates a database of its own with Kong's cluster_events table,
// dropped when the test ends. Without a server the test skips, or fails
// when CI=true.
func testDB(t testing.TB) (*pgxpool.Pool, *pgx.ConnConfig) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, serverConnString()+" dbname=postgres")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable (CI=true): %v", err)
		}
		t.Skipf("PostgreSQL unreachable: %v", err)
	}
	defer admin.Close(context.Background())
	var b [6]byte
	rand.Read(b[:])
	name := "luahost_events_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, serverConnString()+" dbname=postgres")
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cs := serverConnString() + " dbname=" + name
	pool, err := pgxpool.New(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, kongClusterEventsDDL); err != nil {
		t.Fatal(err)
	}
	lc, err := pgx.ParseConfig(cs)
	if err != nil {
		t.Fatal(err)
	}
	return pool, lc
}

func pgNodes(t *testing.T, cfg ClusterConfig) (a, b *ClusterEvents, pool *pgxpool.Pool) {
	t.Helper()
	pool, lc := testDB(t)
	ctx := context.Background()
	cfg.NodeID = uuid.NewString()
	a, err := NewPostgres(ctx, pool, lc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NodeID = uuid.NewString()
	b, err = NewPostgres(ctx, pool, lc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	t.Cleanup(b.Close)
	return a, b, pool
}

// waitListening gives the LISTEN connections time to be up (they start on
// the first Subscribe).
func waitListening(t testing.TB, pool *pgxpool.Pool, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var c int
		err := pool.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&c)
		if err == nil && c >= n {
			return
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	t.Fatalf("%d LISTEN connections not up", n)
}

func TestPostgresNotifyDeliversAtOnce(t *testing.T) {
	// No polling: only NOTIFY can deliver (its latency is measured by
	// BenchmarkNotifyRoundTrip, not asserted here).
	a, b, pool := pgNodes(t, ClusterConfig{PollInterval: time.Hour, Notify: true})
	ra, rb := newRecorder(), newRecorder()
	a.Subscribe("invalidations", ra.cb)
	b.Subscribe("invalidations", rb.cb)
	waitListening(t, pool, 2)
	ctx := context.Background()
	for _, key := range []string{"consumers:alice", strings.Repeat("k", 5000)} { // inline, then fetched by id
		if err := a.Broadcast(ctx, "invalidations", key, 0); err != nil {
			t.Fatal(err)
		}
		if got, _ := rb.await(t, 30*time.Second); got != key {
			t.Fatalf("b got %.40q", got)
		}
	}
	// The sender never gets its own rows, by notification or by polling.
	if err := a.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	ra.none(t)
	// b polling afterwards does not deliver them twice.
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	rb.none(t)
}

func TestPostgresPollingWithoutNotify(t *testing.T) {
	const every = 300 * time.Millisecond
	a, b, _ := pgNodes(t, ClusterConfig{PollInterval: every, Notify: false})
	ra, rb := newRecorder(), newRecorder()
	a.Subscribe("invalidations", ra.cb)
	b.Subscribe("invalidations", rb.cb)
	if err := a.Broadcast(context.Background(), "invalidations", "consumers:bob", 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := rb.await(t, 30*time.Second); got != "consumers:bob" {
		t.Fatalf("b got %q", got)
	}
	// Not to the sender, and not again on the next polls.
	ctx := context.Background()
	if err := a.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	ra.none(t)
	rb.none(t)
}

func TestPostgresBroadcastTxCommitsWithTheChange(t *testing.T) {
	a, b, pool := pgNodes(t, ClusterConfig{PollInterval: time.Hour, Notify: true})
	rb := newRecorder()
	a.Subscribe("invalidations", func(string) {})
	b.Subscribe("invalidations", rb.cb)
	waitListening(t, pool, 2)
	ctx := context.Background()

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.BroadcastTx(ctx, tx, "invalidations", "rolled-back", 0); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx)
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	rb.none(t)

	tx, err = pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.BroadcastTx(ctx, tx, "invalidations", "committed", 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Poll(ctx); err != nil { // nothing before commit
		t.Fatal(err)
	}
	rb.none(t)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// no polling: NOTIFY delivers on commit
	if got, _ := rb.await(t, 30*time.Second); got != "committed" {
		t.Fatalf("after commit: %q", got)
	}
	if err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	rb.none(t)
}

// TestPostgresRowsAsKongWritesThem: the row has Kong's shape (so Kong nodes
// polling the same table see our events) and rows Kong writes are picked up
// by our polling (a mixed cluster).
func TestPostgresRowsAsKongWritesThem(t *testing.T) {
	a, b, pool := pgNodes(t, ClusterConfig{PollInterval: 200 * time.Millisecond})
	ctx := context.Background()
	if err := a.Broadcast(ctx, "invalidations", "k1", 2500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var node, channel, data string
	var ttl, nbfDelay float64
	err := pool.QueryRow(ctx, `SELECT node_id::text, channel, data,
		EXTRACT(EPOCH FROM expire_at - at), EXTRACT(EPOCH FROM nbf - at) FROM cluster_events`).
		Scan(&node, &channel, &data, &ttl, &nbfDelay)
	if err != nil {
		t.Fatal(err)
	}
	if node != a.NodeID() || channel != "invalidations" || data != "k1" || ttl != 3600 || nbfDelay != 2 {
		t.Fatalf("row: node %s channel %s data %s ttl %v nbf-at %v", node, channel, data, ttl, nbfDelay)
	}

	rb := newRecorder()
	b.Subscribe("invalidations", rb.cb)
	// Kong's INSERT (kong/cluster_events/strategies/postgres.lua), from a
	// Kong node.
	_, err = pool.Exec(ctx, `INSERT INTO cluster_events ("id","node_id","at","nbf","expire_at","channel","data")
		VALUES ($1, $2, CURRENT_TIMESTAMP(3) AT TIME ZONE 'UTC', NULL,
		        CURRENT_TIMESTAMP(3) AT TIME ZONE 'UTC' + INTERVAL '3600 second', 'invalidations', 'from-kong')`,
		uuid.NewString(), uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		got, _ := rb.await(t, 30*time.Second)
		seen[got] = true
	}
	if !seen["from-kong"] || !seen["k1"] {
		t.Fatalf("got %v", seen)
	}
}

func TestPostgresPropagationSetsNbf(t *testing.T) {
	a, b, pool := pgNodes(t, ClusterConfig{PollInterval: 100 * time.Millisecond, PollOffset: time.Second, PollDelay: time.Second})
	rb := newRecorder()
	b.Subscribe("ch", rb.cb)
	ctx := context.Background()
	start := time.Now()
	if err := a.Broadcast(ctx, "ch", "d", 0); err != nil { // delay overridden by db_update_propagation
		t.Fatal(err)
	}
	var ttl float64
	pool.QueryRow(ctx, `SELECT EXTRACT(EPOCH FROM expire_at - at) FROM cluster_events`).Scan(&ttl)
	if ttl != 3600 {
		t.Fatalf("event ttl %v, want max(offset*10, 3600)", ttl)
	}
	rb.await(t, 30*time.Second)
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Fatalf("delivered after %v, before nbf", took)
	}
}

func TestPostgresBroadcastErrorMessage(t *testing.T) {
	a, _, pool := pgNodes(t, ClusterConfig{PollInterval: time.Hour})
	pool.Exec(context.Background(), `DROP TABLE cluster_events`)
	err := a.Broadcast(context.Background(), "ch", "d", 0)
	if err == nil || !strings.HasPrefix(err.Error(), "could not insert invalidation row: ") {
		t.Fatalf("err = %v", err)
	}
}

// TestPostgresListenReconnects: when the LISTEN connection dies, the node
// reconnects (catching up with a poll) and NOTIFY delivery resumes.
func TestPostgresListenReconnects(t *testing.T) {
	a, b, pool := pgNodes(t, ClusterConfig{PollInterval: time.Hour, Notify: true})
	rb := newRecorder()
	a.Subscribe("invalidations", func(string) {})
	b.Subscribe("invalidations", rb.cb)
	waitListening(t, pool, 2)
	ctx := context.Background()
	var killed int
	err := pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&killed)
	if err != nil || killed != 2 {
		t.Fatalf("terminated %d LISTEN backends: %v", killed, err)
	}
	// Written while the connections are down or coming back: delivered by
	// the catch-up poll that follows every reconnection, or by NOTIFY.
	if err := a.Broadcast(ctx, "invalidations", "while-down", 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := rb.await(t, 30*time.Second); got != "while-down" {
		t.Fatalf("got %q", got)
	}
	waitListening(t, pool, 2)
	if err := a.Broadcast(ctx, "invalidations", "after", 0); err != nil {
		t.Fatal(err)
	}
	// no polling (PollInterval is an hour): NOTIFY delivery resumed
	if got, _ := rb.await(t, 30*time.Second); got != "after" {
		t.Fatalf("after reconnect: %q", got)
	}
}
