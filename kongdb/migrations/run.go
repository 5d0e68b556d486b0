package migrations

import (
	"context"
	"errors"
	"fmt"

	"github.com/luahost/luahost/kongdb/postgres"
)

// RunOptions are db:run_migrations options.
type RunOptions struct {
	RunUp       bool
	RunTeardown bool
	// SkipTeardown lists migrations whose teardown must not run (up --force
	// re-running executed migrations while others are pending).
	SkipTeardown Lists
}

// RunMigrations is db:run_migrations(list, opts) (§5.3): per migration, up
// SQL in a transaction, up_f, record executed/pending; teardown and record
// teardown. The first failure stops the run; what completed stays recorded.
func (m *Migrator) RunMigrations(ctx context.Context, lists Lists, o RunOptions) error {
	if !o.RunUp && !o.RunTeardown {
		return errors.New("options.run_up or options.run_teardown must be given")
	}
	skip := map[string]map[string]bool{}
	if o.RunTeardown {
		for _, l := range o.SkipTeardown {
			for _, mig := range l.Migrations {
				if mig.HasTeardown() {
					if skip[l.Subsystem] == nil {
						skip[l.Subsystem] = map[string]bool{}
					}
					skip[l.Subsystem][mig.Name] = true
				}
			}
		}
	}
	var upDone map[string]map[string]bool
	if o.RunUp {
		var err error
		if upDone, err = m.Conn.UpDone(ctx); err != nil {
			return fmt.Errorf("[PostgreSQL error] failed to check schema state: %w", err)
		}
	}
	info := m.Conn.Infos()
	nMigrations, nPending := 0, 0
	for _, l := range lists {
		m.logf("migrating %s on %s '%s'...", l.Subsystem, info.DBDesc, info.DBName)
		for _, mig := range l.Migrations {
			if o.RunUp {
				if err := m.runUp(ctx, l.Subsystem, mig, upDone[l.Subsystem][mig.Name]); err != nil {
					return err
				}
				if mig.HasTeardown() {
					nPending++
				}
			}
			if o.RunTeardown && mig.HasTeardown() && !skip[l.Subsystem][mig.Name] {
				if err := m.call(ctx, mig, true); err != nil {
					return m.stepError(l.Subsystem, mig.Name, "teardown", err)
				}
				if err := m.Conn.RecordMigration(ctx, l.Subsystem, mig.Name, postgres.StateTeardown); err != nil {
					return m.recordError(l.Subsystem, mig.Name, err)
				}
				if nPending > 0 {
					nPending--
				}
			}
			state := "(executed)"
			if mig.HasTeardown() && !o.RunTeardown {
				state = "(pending)"
			}
			m.logf("%s migrated up to: %s %s", l.Subsystem, mig.Name, state)
			nMigrations++
		}
	}
	plural := ""
	if nMigrations > 1 {
		plural = "s"
	}
	m.logf("%d migration%s processed", nMigrations, plural)
	if n := nMigrations - nPending; n > 0 {
		m.logf("%d executed", n)
	}
	if nPending > 0 {
		m.logf("%d pending", nPending)
	}
	return nil
}

// runUp runs a migration's up and up_f and records it. `up` commits with
// its record: the final state when there is no up_f, else an up-done
// marker that upDone (read from a previous, failed run) reports, so `up`
// never runs twice and the run resumes at up_f.
func (m *Migrator) runUp(ctx context.Context, subsystem string, mig *Migration, upDone bool) error {
	state := postgres.StateExecuted
	if mig.HasTeardown() {
		state = postgres.StatePending
	}
	hasUpF := mig.UpF != nil || mig.UpFGo != nil
	if mig.Up != "" && !upDone {
		inTx := state
		if hasUpF {
			inTx = ""
		}
		if err := m.Conn.RunUpMigration(ctx, subsystem, mig.Name, mig.Up, inTx); err != nil {
			return m.stepError(subsystem, mig.Name, "up", err)
		}
		if !hasUpF {
			return nil
		}
	} else if upDone {
		m.logf("%s: %s: up already applied, resuming at up_f", subsystem, mig.Name)
	}
	if err := m.call(ctx, mig, false); err != nil {
		return m.stepError(subsystem, mig.Name, "up_f", err)
	}
	if err := m.Conn.RecordMigration(ctx, subsystem, mig.Name, state); err != nil {
		return m.recordError(subsystem, mig.Name, err)
	}
	return nil
}

// call runs up_f (teardown = false) or teardown, Go or Lua.
func (m *Migrator) call(ctx context.Context, mig *Migration, teardown bool) error {
	goFn, luaFn := mig.UpFGo, mig.UpF
	if teardown {
		goFn, luaFn = mig.TeardownGo, mig.Teardown
	}
	if goFn != nil {
		if err := goFn(ctx, m.Conn); err != nil {
			return err
		}
	}
	if luaFn != nil && mig.Legacy {
		lr, ok := m.Runner.(LegacyRunner)
		if !ok {
			return fmt.Errorf("no Lua runner for the 0.x migration %s", luaFn.Ref)
		}
		return lr.CallLegacyMigrationFunc(ctx, luaFn, m.Conn)
	}
	if luaFn != nil {
		if m.Runner == nil {
			return fmt.Errorf("no Lua runner for %s", luaFn.Ref)
		}
		return m.Runner.CallMigrationFunc(ctx, luaFn, m.Conn)
	}
	return nil
}

func (m *Migrator) stepError(subsystem, name, step string, err error) *Error {
	msg := err.Error()
	return &Error{
		Msg:       fmt.Sprintf("[PostgreSQL error] failed to run migration '%s' %s: %s", name, step, msg),
		Code:      1,
		Subsystem: subsystem, Migration: name, Step: step,
		SQLState: postgres.SQLState(err), Err: err,
	}
}

func (m *Migrator) recordError(subsystem, name string, err error) *Error {
	return &Error{
		Msg:       fmt.Sprintf("[PostgreSQL error] failed to record migration '%s': %s", name, err.Error()),
		Code:      1,
		Subsystem: subsystem, Migration: name, Step: "record",
		SQLState: postgres.SQLState(err), Err: err,
	}
}
