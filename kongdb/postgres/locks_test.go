package postgres_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// A callback that outlives the lock's TTL keeps the lock: the holder
// renews it, so a second node cannot take it while the first still runs
// (a migration longer than --lock-timeout ran twice at once).
func TestClusterMutexRenewedWhileRunning(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.NewDatabase(t)
	open := func() *postgres.Connector { return pgtest.Connect(t, cfg) }
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

// frozenProxy forwards TCP to target until freeze is called; from then on
// it accepts bytes and answers nothing, like a server behind a partition.
// stop closes everything.
func frozenProxy(t *testing.T, target string) (addr string, freeze, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	frozen := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var conns []net.Conn
	stop = func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	}
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			pipe := func(dst, src net.Conn) {
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if err != nil {
						_ = dst.Close()
						return
					}
					select {
					case <-frozen:
						continue // swallow
					default:
					}
					if _, err := dst.Write(buf[:n]); err != nil {
						return
					}
				}
			}
			go pipe(out, in)
			go pipe(in, out)
		}
	}()
	return ln.Addr().String(), func() { once.Do(func() { close(frozen) }) }, stop
}

// A control-path call on a connection whose server stopped answering
// returns an error after pg_timeout (plus a second) instead of hanging.
func TestControlCallsHaveClientDeadline(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.NewDatabase(t)
	addr, freeze, stop := frozenProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	host, port, _ := net.SplitHostPort(addr)
	cfg.Host = host
	cfg.Port, _ = strconv.Atoi(port)
	cfg.Timeout = 500 * time.Millisecond
	c, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetupLocks(ctx); err != nil {
		t.Fatal(err)
	}
	defer stop()
	freeze()
	done := make(chan error, 1)
	go func() { _, err := c.ReadLock(ctx, "migrations"); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a frozen server answered")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("ReadLock on a frozen server never returned")
	}
}

// Database errors stay inspectable: the SQLSTATE through *pgconn.PgError
// and a timeout through context.DeadlineExceeded, under Kong's message.
func TestDatabaseErrorsAreWrapped(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	_, err := c.InsertLock(ctx, "k", time.Second, "me") // no locks table yet
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Fatalf("InsertLock without a locks table: %v (%T)", err, err)
	}
	if err.Error() != `ERROR: relation "locks" does not exist` {
		t.Fatalf("message: %q", err.Error())
	}
	if err := c.SetupLocks(ctx); err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := c.ReadLock(dctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadLock past its deadline: %v (%T)", err, err)
	}
	err = c.Tx(ctx, func(ctx context.Context) error {
		_, err := c.Query(ctx, "SET CONSTRAINTS ALL DEFERRED; CREATE TEMP TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (1)")
		return err
	})
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("Tx: %v (%T)", err, err)
	}
}

// TTL cleanup reports its failures (they were dropped: a cleanup that
// never ran looked like one with nothing to delete).
func TestCleanupExpiredReportsErrors(t *testing.T) {
	c := pgtest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.CleanupExpired(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cleanup with a canceled context: %v", err)
	}
	if _, err := c.CleanupExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
}
