package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SetupLocks creates Kong's locks table (connector:setup_locks).
func (c *Connector) SetupLocks(ctx context.Context) error {
	_, err := c.Query(ctx, locksSQL)
	return err
}

const locksSQL = `CREATE TABLE IF NOT EXISTS locks (
  key    TEXT PRIMARY KEY,
  owner  TEXT,
  ttl    TIMESTAMP WITH TIME ZONE
);
CREATE INDEX IF NOT EXISTS locks_ttl_idx ON locks (ttl);`

// InsertLock takes the lock key for ttl unless an unexpired holder exists
// (connector:insert_lock): expired rows are deleted and the row inserted in
// one transaction.
func (c *Connector) InsertLock(ctx context.Context, key string, ttl time.Duration, owner string) (bool, error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return false, dbError(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, `DELETE FROM locks WHERE ttl < CURRENT_TIMESTAMP`); err != nil {
		return false, dbError(err)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO locks (key, owner, ttl)
VALUES ($1, $2, CURRENT_TIMESTAMP + make_interval(secs => $3)) ON CONFLICT DO NOTHING`,
		key, owner, ttl.Seconds())
	if err != nil {
		return false, dbError(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, dbError(err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReadLock reports whether an unexpired lock key exists.
func (c *Connector) ReadLock(ctx context.Context, key string) (bool, error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	var n int
	err := c.pool.QueryRow(ctx, `SELECT COUNT(*) FROM locks WHERE key = $1 AND ttl >= CURRENT_TIMESTAMP`, key).Scan(&n)
	if err != nil {
		return false, dbError(err)
	}
	return n > 0, nil
}

// RemoveLock deletes key held by owner.
func (c *Connector) RemoveLock(ctx context.Context, key, owner string) error {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	if _, err := c.pool.Exec(ctx, `DELETE FROM locks WHERE key = $1 AND owner = $2`, key, owner); err != nil {
		return dbError(err)
	}
	return nil
}

// MutexOptions are db:cluster_mutex options.
type MutexOptions struct {
	TTL       time.Duration // default 60 s
	Owner     string        // default: a per-process id
	NoWait    bool
	NoCleanup bool
}

// nodeLocks is the per-node half of the cluster mutex (Kong's shm lock);
// a Connector is one node.
type nodeLocks struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

var nodeOwner = fmt.Sprintf("luahost-%d", time.Now().UnixNano())

// ErrMutexTimeout is returned when the cluster mutex was not released in time.
var ErrMutexTimeout = errors.New("[PostgreSQL error] timeout")

// ClusterMutex is db:cluster_mutex(key, opts, cb): a per-process lock, then
// the locks row. It returns (false, nil) when another holder ran (or is
// running, with NoWait), (true, nil) after cb ran, and an error when cb
// failed or the wait timed out.
func (c *Connector) ClusterMutex(ctx context.Context, key string, o MutexOptions, cb func(ctx context.Context) error) (bool, error) {
	if o.TTL <= 0 {
		o.TTL = 60 * time.Second
	}
	if o.Owner == "" {
		o.Owner = nodeOwner
	}
	// Per-node lock (Kong's shm mutex): a second caller waits for the first
	// and then reports "not the leader".
	nl := &c.nodeLocks
	nl.mu.Lock()
	if nl.locks == nil {
		nl.locks = map[string]chan struct{}{}
	}
	ch, busy := nl.locks[key]
	if !busy {
		ch = make(chan struct{})
		nl.locks[key] = ch
	}
	nl.mu.Unlock()
	if busy {
		select {
		case <-ch:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(o.TTL):
			return false, ErrMutexTimeout
		}
	}
	defer func() {
		nl.mu.Lock()
		delete(nl.locks, key)
		nl.mu.Unlock()
		close(ch)
	}()

	ok, err := c.InsertLock(ctx, key, o.TTL, o.Owner)
	if err != nil {
		return false, fmt.Errorf("[PostgreSQL error] %w", err)
	}
	if !ok {
		if o.NoWait {
			return false, nil
		}
		deadline := time.Now().Add(o.TTL)
		step := 100 * time.Millisecond
		for time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(step):
			}
			held, err := c.ReadLock(ctx, key)
			if err != nil {
				return false, fmt.Errorf("[PostgreSQL error] %w", err)
			}
			if !held {
				return false, nil
			}
			if step < 2*time.Second {
				step += 300 * time.Millisecond
			}
		}
		return false, ErrMutexTimeout
	}
	stopRenew := c.renewLock(key, o)
	cbErr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		return cb(ctx)
	}()
	stopRenew()
	if cbErr != nil {
		_ = c.RemoveLock(context.Background(), key, o.Owner)
		return false, &MutexCallbackError{Err: cbErr}
	}
	if !o.NoCleanup {
		if err := c.RemoveLock(context.Background(), key, o.Owner); err != nil {
			return true, err
		}
	}
	return true, nil
}

// renewLock keeps the locks row of a running callback alive: every third
// of the TTL it pushes the expiry one TTL ahead, so a callback that runs
// longer than the TTL (a long migration) is never taken over by another
// node while it runs; a dead node's row still expires after one TTL. The
// returned stop waits for the renewer to finish.
func (c *Connector) renewLock(key string, o MutexOptions) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	every := o.TTL / 3
	go func() {
		defer close(exited)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), every)
				_, _ = c.pool.Exec(ctx, `UPDATE locks SET ttl = CURRENT_TIMESTAMP + make_interval(secs => $3)
WHERE key = $1 AND owner = $2`, key, o.Owner, o.TTL.Seconds())
				cancel()
			}
		}
	}()
	return func() { close(done); <-exited }
}

// WithSessionLock runs fn while this connector holds the session-level
// advisory lock id on a connection of its own: other holders wait (no
// polling, no TTL); the lock goes away with the session if the process
// dies.
func (c *Connector) WithSessionLock(ctx context.Context, id int64, fn func(ctx context.Context) error) error {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return &QueryError{Msg: pgmoonError(err), Err: err}
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
		return &QueryError{Msg: pgmoonError(err), Err: err}
	}
	defer func() {
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, id); err != nil {
			// a session that cannot unlock must not go back to the pool
			_ = conn.Conn().Close(context.Background())
		}
	}()
	return fn(ctx)
}

// MutexCallbackError wraps an error of a cluster_mutex callback.
type MutexCallbackError struct{ Err error }

func (e *MutexCallbackError) Error() string {
	return "cluster_mutex callback threw an error: " + e.Err.Error()
}
func (e *MutexCallbackError) Unwrap() error { return e.Err }
