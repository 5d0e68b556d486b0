package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
)

// Scratch opens a connector on a new schema of the configured database,
// named luahost_check_<random>, bootstraps Kong's core tables in it and
// calls fn; the schema is dropped afterwards whatever happens.
func Scratch(ctx context.Context, cfg postgres.Config, fn func(conn *postgres.Connector) error) (err error) {
	admin, err := pgx.Connect(ctx, cfg.ConnString())
	if err != nil {
		return fmt.Errorf("cannot connect to PostgreSQL at %s:%d (database %s): %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	defer admin.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "luahost_check_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return fmt.Errorf("cannot create a scratch schema: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, derr := admin.Exec(dctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); derr != nil && err == nil {
			err = fmt.Errorf("drop scratch schema %s: %w", name, derr)
		}
	}()
	sc := cfg
	sc.Schema = name
	sc.TTLCleanupInterval = -1
	sc.ReadOnly = nil
	// a schema dropped at the end of the run needs no durable commits
	sc.RuntimeParams = map[string]string{"synchronous_commit": "off"}
	for k, v := range cfg.RuntimeParams {
		sc.RuntimeParams[k] = v
	}
	if sc.Timeout < time.Minute {
		sc.Timeout = time.Minute // migrations, not requests
	}
	conn, err := postgres.Open(ctx, sc)
	if err != nil {
		return err
	}
	defer conn.Close()
	m := &migrations.Migrator{Conn: conn, Subsystems: []*migrations.Subsystem{migrations.Core()}, Owner: name}
	if err := m.Bootstrap(ctx, false); err != nil {
		return fmt.Errorf("bootstrap scratch schema: %w", err)
	}
	return fn(conn)
}

// runMigrations runs each migration of lists alone (up, up_f, teardown),
// so that one failure does not hide the next; it returns the failures.
func runEach(ctx context.Context, conn *postgres.Connector, runner migrations.Runner, sub *migrations.Subsystem) []*migrations.Error {
	m := &migrations.Migrator{Conn: conn, Subsystems: []*migrations.Subsystem{sub}, Runner: runner}
	var errs []*migrations.Error
	for _, mig := range sub.Migrations {
		err := m.RunMigrations(ctx, migrations.Lists{{Subsystem: sub.Name, Namespace: sub.Namespace, Migrations: []*migrations.Migration{mig}}},
			migrations.RunOptions{RunUp: true, RunTeardown: true})
		if err != nil {
			me, ok := err.(*migrations.Error)
			if !ok {
				me = &migrations.Error{Msg: err.Error(), Subsystem: sub.Name, Migration: mig.Name, Err: err}
			}
			if me.Migration == "" {
				me.Migration = mig.Name
			}
			errs = append(errs, me)
		}
	}
	return errs
}
