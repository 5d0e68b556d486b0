package pdk

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/postgres"
)

// kong.cluster.get_id() is the parameters row "cluster_id" read through
// kong.core_cache: on PostgreSQL the one core's migrations inserted, on
// the embedded store (Kong's DB-less) none, so nil.
func TestKongClusterGetID(t *testing.T) {
	eachStore(t, func(t *testing.T, conn func(t *testing.T) kongdb.Connector) {
		c := conn(t)
		env := newCacheEnv(t, cacheEnvOpts{db: true, conn: c})
		pg, ok := c.(*postgres.Connector)
		if !ok {
			wantStr(t, "get_id", env.one(t, 0, `return kong.cluster.get_id()`), "nil")
			return
		}
		r, err := pg.Query(context.Background(), "SELECT value FROM parameters WHERE key = 'cluster_id'")
		if err != nil || len(r.Rows) != 1 {
			t.Fatalf("cluster_id row: %v %v", r, err)
		}
		id := r.Rows[0]["value"].(string)
		if _, err := uuid.Parse(id); err != nil {
			t.Fatal(err)
		}
		wantStr(t, "get_id", env.one(t, 0, `return kong.cluster.get_id()`), id)
		// cached in kong.core_cache under Kong's key
		wantStr(t, "probe", env.one(t, 0, `local ttl, err, v = kong.core_cache:probe("cluster_id") return v`), id)
	})
}

// A failing read is get_id's nil, err.
func TestKongClusterGetIDError(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{db: true})
	got := env.one(t, 0, `
kong.db.parameters = { select = function(self, pk) return nil, "boom " .. pk.key end }
return kong.cluster.get_id()`)
	// Kong's kong/cache/init.lua prefixes the callback's error
	wantStr(t, "get_id", got, "nil failed to get from node cache: boom cluster_id")
}
