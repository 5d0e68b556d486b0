// Package pgtest gives tests a PostgreSQL database of their own on the
// server of the test command (127.0.0.1:5432, user postgres, or PGHOST,
// PGPORT, PGUSER, PGPASSWORD). Without a server, tests skip; with CI=true
// they fail.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/luahost/luahost/kongdb/postgres"
)

// ServerConfig is the admin connection config of the test server.
func ServerConfig() postgres.Config {
	cfg := postgres.DefaultConfig()
	cfg.User = "postgres"
	cfg.Database = "postgres"
	cfg.TTLCleanupInterval = -1
	if v := os.Getenv("PGHOST"); v != "" {
		cfg.Host = v
	}
	if v := os.Getenv("PGPORT"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			cfg.Port = n
		}
	}
	if v := os.Getenv("PGUSER"); v != "" {
		cfg.User = v
	}
	cfg.Password = os.Getenv("PGPASSWORD")
	return cfg
}

// NewDatabase creates luahost_test_<random>, drops it when the test ends,
// and returns a config pointing at it.
func NewDatabase(tb testing.TB) postgres.Config {
	tb.Helper()
	admin := ServerConfig()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin.ConnString())
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL unreachable at %s (CI=true): %v", admin, err)
		}
		tb.Skipf("PostgreSQL unreachable at %s: %v", admin, err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "luahost_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin.ConnString())
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg := admin
	cfg.Database = name
	// A throwaway database needs no durable commits.
	cfg.RuntimeParams = map[string]string{"synchronous_commit": "off"}
	return cfg
}

// Open creates a database and opens a connector on it, closed at the end.
func Open(tb testing.TB) *postgres.Connector {
	tb.Helper()
	return Connect(tb, NewDatabase(tb))
}

// Connect opens one more connector (a pool of its own, as another node
// would have) on the database of cfg, closed at the end.
func Connect(tb testing.TB, cfg postgres.Config) *postgres.Connector {
	tb.Helper()
	c, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
