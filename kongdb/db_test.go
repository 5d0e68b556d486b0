package kongdb_test

import (
	"testing"

	"github.com/luahost/luahost/kongdb"
)

func TestCoreEntities(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		for _, n := range []string{"workspaces", "consumers", "certificates", "services", "routes", "plugins", "tags"} {
			if db.DAO(n) == nil {
				t.Fatalf("no DAO for %s", n)
			}
		}
		if db.Strategy() == "" {
			t.Fatal("no strategy name")
		}
	})
}

func TestDefaultWorkspace(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		ws := must[string](t)(db.DefaultWorkspace(ctx))
		if len(ws) != 36 {
			t.Fatalf("default workspace id %q", ws)
		}
		again := must[string](t)(db.DefaultWorkspace(ctx))
		eq(t, again, ws)
		row := must[kongdb.Row](t)(db.DAO("workspaces").SelectBy(ctx, "name", "default", nil))
		eq(t, row["id"], ws)
		// cache keys of workspaceable entities end with it
		ck := must[string](t)(db.DAO("consumers").CacheKey(ctx, "abc"))
		eq(t, ck, "consumers:abc:::::"+ws)
		if db.Strategy() == "off" {
			eq(t, ws, kongdb.DeclarativeDefaultWorkspaceID)
		}
	})
}
