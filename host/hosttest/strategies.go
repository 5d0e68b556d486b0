package hosttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// Strategies are the storages every spec runs on: the embedded store and
// PostgreSQL (Kong's helpers.each_strategy).
var Strategies = []string{"off", "postgres"}

// EachStrategy runs body once per strategy with a host built from
// newConf: on "postgres", in a database of its own (created, bootstrapped
// with every enabled plugin's migrations, dropped at the end).
func EachStrategy(t *testing.T, newConf func() *conf.Config, body func(t *testing.T, h *host.Host)) {
	for _, strategy := range Strategies {
		t.Run(strategy, func(t *testing.T) {
			c := newConf()
			c.Set("database", strategy, "test")
			if strategy == "postgres" {
				UsePostgres(t, c)
			}
			h, err := host.New(host.Options{Conf: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			body(t, h)
		})
	}
}

// UsePostgres points c at a fresh database and bootstraps it with the
// migrations of core and of every plugin c enables.
func UsePostgres(t testing.TB, c *conf.Config) {
	t.Helper()
	cfg := pgtest.NewDatabase(t)
	c.Set("database", "postgres", "test")
	c.Set("pg_host", cfg.Host, "test")
	c.Set("pg_port", fmt.Sprint(cfg.Port), "test")
	c.Set("pg_user", cfg.User, "test")
	c.Set("pg_password", cfg.Password, "test")
	c.Set("pg_database", cfg.Database, "test")
	h, err := host.New(host.Options{Conf: c, NoDB: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	subs, err := h.Subsystems()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out bytes.Buffer
	m := &migrations.Migrator{Conn: conn, Subsystems: subs, Runner: h, Out: &out, Owner: "hosttest"}
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out.String())
	}
}
