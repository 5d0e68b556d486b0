package kongdb_test

import (
	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
)

// Every each() body also runs on postgres: a database of its own,
// bootstrapped with the core migrations (skipped without a server, unless
// CI=true).
func init() { kongdbtest.RegisterStrategy("postgres", migrationstest.Connector) }
