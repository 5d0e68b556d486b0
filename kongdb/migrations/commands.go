package migrations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/luahost/luahost/kongdb/postgres"
)

func (m *Migrator) mutex(noWait, noCleanup bool) postgres.MutexOptions {
	ttl := m.LockTimeout
	if ttl <= 0 {
		ttl = 60 * time.Second
	}
	return postgres.MutexOptions{TTL: ttl, Owner: m.Owner, NoWait: noWait, NoCleanup: noCleanup}
}

// State loads the current schema state.
func (m *Migrator) State(ctx context.Context) (*State, error) {
	return LoadState(ctx, m.Conn, m.Subsystems)
}

// withMutex runs fn under the "migrations" cluster mutex; ok = false when
// another node held it (NotLeaderMsg is logged).
func (m *Migrator) withMutex(ctx context.Context, o postgres.MutexOptions, fn func(ctx context.Context) error) (bool, error) {
	ok, err := m.Conn.ClusterMutex(ctx, MutexKey, o, fn)
	if err != nil {
		var cbe *postgres.MutexCallbackError
		if errors.As(err, &cbe) {
			var me *Error
			if errors.As(cbe.Err, &me) {
				return false, me
			}
			return false, &Error{Msg: cbe.Err.Error(), Code: 1, Err: cbe.Err}
		}
		return false, &Error{Msg: err.Error(), Code: 1, Err: err}
	}
	if !ok {
		m.logf("%s", NotLeaderMsg)
	}
	return ok, nil
}

// bootstrapLockID is the session advisory lock that serialises bootstraps
// (distinct from SchemaBootstrap's transaction lock).
const bootstrapLockID int64 = 7349218735

// Bootstrap is `kong migrations bootstrap [--force]`: with force, reset
// first; an already bootstrapped database is left alone; otherwise create
// schema_meta and locks and run every migration up and teardown. The whole
// of it runs under a session advisory lock: a second node bootstrapping at
// once waits for the first to finish and then reports "Database already
// bootstrapped", as Kong's waiting node does, instead of finding the first
// node's half-made tables.
func (m *Migrator) Bootstrap(ctx context.Context, force bool) error {
	var berr error
	err := m.Conn.WithSessionLock(ctx, bootstrapLockID, func(ctx context.Context) error {
		berr = m.bootstrap(ctx, force)
		return nil
	})
	if err != nil {
		return &Error{Msg: "[PostgreSQL error] " + err.Error(), Code: 1, Err: err}
	}
	return berr
}

func (m *Migrator) bootstrap(ctx context.Context, force bool) error {
	st, err := m.State(ctx)
	if err != nil {
		return &Error{Msg: err.Error(), Code: 1, Err: err}
	}
	if force {
		if _, err := m.reset(ctx, st); err != nil {
			return err
		}
		if st, err = m.State(ctx); err != nil {
			return &Error{Msg: err.Error(), Code: 1, Err: err}
		}
	}
	if !st.NeedsBootstrap {
		m.logf("Database already bootstrapped")
		return nil
	}
	// Kong would bootstrap over leftover tables silently (CREATE TABLE IF
	// NOT EXISTS). Tables without schema_meta are someone else's or a
	// half-finished bootstrap: refuse, or with --force reset them first
	// (what --force means for bootstrap).
	found, err := m.Conn.ExistingTables(ctx, coreTableNames...)
	if err != nil {
		return &Error{Msg: err.Error(), Code: 1, Err: err}
	}
	if len(found) > 0 {
		if !force {
			return errorf("Database is not bootstrapped but already has Kong tables (%s); "+
				"run 'kong migrations bootstrap --force' to reset it and bootstrap", strings.Join(found, ", "))
		}
		m.logf("Resetting database...")
		if err := m.Conn.SchemaReset(ctx); err != nil {
			return &Error{Msg: err.Error(), Code: 1, Err: err}
		}
		m.logf("Database successfully reset")
	}
	m.logf("Bootstrapping database...")
	if err := m.Conn.SchemaBootstrap(ctx); err != nil {
		return &Error{Msg: "[PostgreSQL error] " + err.Error(), Code: 1, Err: err}
	}
	_, err = m.withMutex(ctx, m.mutex(true, false), func(ctx context.Context) error {
		// Re-read under the lock: a Kong node (which does not take the
		// session lock) may have bootstrapped meanwhile.
		st, err := m.State(ctx)
		if err != nil {
			return err
		}
		if len(st.Executed) > 0 || len(st.Pending) > 0 {
			m.logf("Database already bootstrapped")
			return nil
		}
		if err := m.RunMigrations(ctx, st.New, RunOptions{RunUp: true, RunTeardown: true}); err != nil {
			return err
		}
		m.logf("Database is up-to-date")
		return nil
	})
	return err
}

// bootstrappedState loads the state, refusing a database that needs
// bootstrapping (Kong's "Cannot run migrations").
func (m *Migrator) bootstrappedState(ctx context.Context) (*State, error) {
	st, err := m.State(ctx)
	if err != nil {
		return nil, &Error{Msg: err.Error(), Code: 1, Err: err}
	}
	if st.NeedsBootstrap {
		return nil, errorf("Cannot run migrations: %s", NeedsBootstrapMsg)
	}
	return st, nil
}

// runAndReload runs lists and returns the state they leave.
func (m *Migrator) runAndReload(ctx context.Context, lists Lists, o RunOptions) (*State, error) {
	if err := m.RunMigrations(ctx, lists, o); err != nil {
		return nil, err
	}
	return m.State(ctx)
}

// Up is `kong migrations up [--force]`.
func (m *Migrator) Up(ctx context.Context, force bool) error {
	st, err := m.bootstrappedState(ctx)
	if err != nil {
		return err
	}
	if !force && len(st.Pending) > 0 {
		return errorf("Database has pending migrations; run 'kong migrations finish'")
	}
	_, err = m.withMutex(ctx, m.mutex(false, false), func(ctx context.Context) error {
		st, err := m.State(ctx)
		if err != nil {
			return err
		}
		if !force && len(st.Pending) > 0 {
			return errorf("Database has pending migrations; run 'kong migrations finish'")
		}
		if force && len(st.Executed) > 0 {
			if st, err = m.runAndReload(ctx, st.Executed, RunOptions{RunUp: true, RunTeardown: true, SkipTeardown: st.Pending}); err != nil {
				return err
			}
			if len(st.Pending) > 0 {
				m.logf("\nDatabase has pending migrations; run 'kong migrations finish' when ready")
				return nil
			}
		}
		if len(st.New) == 0 {
			if !force {
				m.logf("Database is already up-to-date")
			}
			return nil
		}
		if st, err = m.runAndReload(ctx, st.New, RunOptions{RunUp: true}); err != nil {
			return err
		}
		if len(st.Pending) > 0 {
			m.logf("\nDatabase has pending migrations; run 'kong migrations finish' when ready")
		}
		return nil
	})
	return err
}

// Finish is `kong migrations finish [--force]`: run the teardowns of the
// pending migrations.
func (m *Migrator) Finish(ctx context.Context, force bool) error {
	if _, err := m.bootstrappedState(ctx); err != nil {
		return err
	}
	_, err := m.withMutex(ctx, m.mutex(true, false), func(ctx context.Context) error {
		st, err := m.State(ctx)
		if err != nil {
			return err
		}
		if force && len(st.Executed) > 0 {
			if st, err = m.runAndReload(ctx, st.Executed, RunOptions{RunUp: true, RunTeardown: true}); err != nil {
				return err
			}
		}
		if len(st.Pending) > 0 {
			if st, err = m.runAndReload(ctx, st.Pending, RunOptions{RunTeardown: true}); err != nil {
				return err
			}
		}
		if len(st.New) > 0 {
			m.logf("\nNew migrations available; run 'kong migrations up' to proceed")
			return nil
		}
		if !force && len(st.Pending) == 0 {
			m.logf("No pending migrations to finish")
		}
		return nil
	})
	return err
}

// List is `kong migrations list`; it returns Kong's exit code: 3 not
// bootstrapped, 4 pending, 5 new only, 0 up to date.
func (m *Migrator) List(ctx context.Context) (int, error) {
	st, err := m.State(ctx)
	if err != nil {
		return 1, &Error{Msg: err.Error(), Code: 1, Err: err}
	}
	if st.NeedsBootstrap {
		m.logf("%s", NeedsBootstrapMsg)
		return 3, nil
	}
	r := ""
	if len(st.Executed) > 0 {
		m.logf("Executed migrations:\n%s", st.Executed)
		r = "\n"
	}
	if len(st.Pending) > 0 {
		m.logf("%sPending migrations:\n%s", r, st.Pending)
		r = "\n"
	}
	if len(st.New) > 0 {
		m.logf("%sNew migrations available:\n%s", r, st.New)
		r = "\n"
	}
	if len(st.Pending) > 0 && len(st.New) > 0 {
		if r != "" {
			m.logf("")
		}
		m.logf("[warn] Database has pending migrations from a previous upgrade, and new migrations from this upgrade")
		m.logf("\nRun 'kong migrations finish' when ready to complete pending migrations (postgres database will be incompatible with the previous Kong version)")
		return 4, nil
	}
	if len(st.Pending) > 0 {
		m.logf("\nRun 'kong migrations finish' when ready")
		return 4, nil
	}
	if len(st.New) > 0 {
		m.logf("\nRun 'kong migrations up' to proceed")
		return 5, nil
	}
	return 0, nil
}

// Status is `kong migrations status`: the JSON of the schema state.
func (m *Migrator) Status(ctx context.Context) ([]byte, error) {
	st, err := m.State(ctx)
	if err != nil {
		return nil, &Error{Msg: err.Error(), Code: 1, Err: err}
	}
	return json.Marshal(st)
}

// Reset is `kong migrations reset` once confirmed (--yes or the prompt,
// which is the CLI's job): it returns Kong's exit code (1 when the database
// was not bootstrapped or another node holds the mutex).
func (m *Migrator) Reset(ctx context.Context) (int, error) {
	st, err := m.State(ctx)
	if err != nil {
		return 1, &Error{Msg: err.Error(), Code: 1, Err: err}
	}
	ok, err := m.reset(ctx, st)
	if err != nil {
		return 1, err
	}
	if !ok {
		return 1, nil
	}
	return 0, nil
}

func (m *Migrator) reset(ctx context.Context, st *State) (bool, error) {
	if st.NeedsBootstrap {
		m.logf("Database not bootstrapped, nothing to reset")
		return false, nil
	}
	ok, err := m.Conn.ClusterMutex(ctx, MutexKey, m.mutex(true, true), func(ctx context.Context) error {
		m.runLegacyDowns(ctx, st)
		m.logf("Resetting database...")
		if err := m.Conn.SchemaReset(ctx); err != nil {
			return err
		}
		m.logf("Database successfully reset")
		return nil
	})
	if err != nil {
		// Kong: the locks table may be gone; reset without the lock.
		m.logf("[error] %s - retrying without cluster lock", err)
		m.logf("Resetting database...")
		_, _ = m.Conn.Query(ctx, "ROLLBACK;")
		if err := m.Conn.SchemaReset(ctx); err != nil {
			return false, &Error{Msg: err.Error(), Code: 1, Err: err}
		}
		m.logf("Database successfully reset")
		return true, nil
	}
	if !ok {
		m.logf("%s", NotLeaderMsg)
		return false, nil
	}
	return true, nil
}

// runLegacyDowns runs the `down` of every executed Kong 0.x migration,
// newest first (subsystems in reverse order, each one's migrations in
// reverse), before reset drops the schema: what a down undoes outside the
// schema (0.x's `kong migrations reset` dropped the plugins' tables) is
// undone. A failing down is logged and the reset goes on, as the schema is
// dropped anyway.
func (m *Migrator) runLegacyDowns(ctx context.Context, st *State) {
	for i := len(m.Subsystems) - 1; i >= 0; i-- {
		sub := m.Subsystems[i]
		for j := len(sub.Migrations) - 1; j >= 0; j-- {
			mig := sub.Migrations[j]
			if !mig.Legacy || (mig.Down == "" && mig.DownF == nil) || !st.IsMigrationExecuted(sub.Name, mig.Name) {
				continue
			}
			m.logf("%s: reverting %s", sub.Name, mig.Name)
			if err := m.runDown(ctx, mig); err != nil {
				m.logf("[warn] %s: down of %s failed: %s", sub.Name, mig.Name, err)
			}
		}
	}
}

func (m *Migrator) runDown(ctx context.Context, mig *Migration) error {
	if mig.Down != "" {
		if _, err := m.Conn.Query(ctx, "BEGIN;\n"+mig.Down+"\n;COMMIT;"); err != nil {
			_, _ = m.Conn.Query(ctx, "ROLLBACK;")
			return err
		}
	}
	if mig.DownF != nil {
		lr, ok := m.Runner.(LegacyRunner)
		if !ok {
			return fmt.Errorf("no Lua runner for the 0.x migration %s", mig.DownF.Ref)
		}
		return lr.CallLegacyMigrationFunc(ctx, mig.DownF, m.Conn)
	}
	return nil
}

// coreTableNames are tables only a Kong bootstrap creates.
var coreTableNames = []string{"workspaces", "consumers", "services", "routes", "plugins", "cluster_events", "locks"}
