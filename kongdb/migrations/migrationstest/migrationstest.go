// Package migrationstest gives tests a PostgreSQL database of their own,
// bootstrapped with luahost's core migrations (Kong's core tables), as a
// postgres Connector or as a kongdb.Connector for kongdbtest.
package migrationstest

import (
	"context"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// Bootstrapped creates a database (dropped at the end of the test), runs
// the core migrations and opens a connector that creates missing entity
// tables from their schemas (Config.AutoCreateTables).
func Bootstrapped(tb testing.TB) *postgres.Connector {
	tb.Helper()
	cfg := pgtest.NewDatabase(tb)
	cfg.AutoCreateTables = true
	ctx := context.Background()
	c, err := postgres.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	m := &migrations.Migrator{Conn: c, Subsystems: []*migrations.Subsystem{migrations.Core()}}
	if err := m.Bootstrap(ctx, false); err != nil {
		tb.Fatalf("bootstrap: %v", err)
	}
	return c
}

// Connector is Bootstrapped as a kongdb.Connector, the shape
// kongdbtest.RegisterStrategy takes.
func Connector(tb testing.TB) kongdb.Connector { return Bootstrapped(tb) }
