package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// luahost test with database = postgres (Kong's spec/kong_tests.conf) on a
// database never bootstrapped, or missing: the run makes it usable before
// its host connects, as get_db_utils would have (the host refused it:
// "Database needs bootstrapping", before any spec ran).
func TestSpecRunFreshDatabase(t *testing.T) {
	for _, missing := range []bool{false, true} {
		c := specHelpersConf(t)
		c.Set("database", "postgres", "test")
		if missing {
			name := c.Get("pg_database") + "_new"
			c.Set("pg_database", name, "test")
			t.Cleanup(func() {
				ctx := context.Background()
				conn, err := pgx.Connect(ctx, pgtest.ServerConfig().ConnString())
				if err != nil {
					t.Errorf("drop %s: %v", name, err)
					return
				}
				defer conn.Close(ctx)
				if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
					t.Errorf("drop %s: %v", name, err)
				}
			})
		}
		code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/http10_spec.lua")
		if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
			t.Fatalf("missing=%v: exit %d:\n%s", missing, code, out)
		}
	}
}
