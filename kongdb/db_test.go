package kongdb_test

import (
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
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

func TestRegister(t *testing.T) {
	db, _ := memDB(t)
	_, err := db.Register(acls())
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Register(acls())
	if err == nil || err.Error() != `kongdb: entity "acls" is already registered` {
		t.Fatalf("duplicate: %v", err)
	}
	bad := keyauth()
	bad.Fields[2].Reference = "nowhere"
	_, err = db.Register(bad)
	if err == nil || err.Error() != "schema refers to an invalid foreign entity: nowhere" {
		t.Fatalf("bad reference: %v", err)
	}
	// the referenced schema learns who points at it
	found := false
	for _, c := range db.DAO("consumers").Schema.Constraints {
		if c.Schema.Name == "acls" && c.FieldName == "consumer" && c.OnDelete == "cascade" {
			found = true
		}
	}
	if !found {
		t.Fatalf("constraints %v", db.DAO("consumers").Schema.Constraints)
	}
	if db.DAO("nope") != nil {
		t.Fatal("unknown DAO")
	}
}

func TestRowToEntity(t *testing.T) {
	db, _ := memDB(t)
	c := db.DAO("consumers")
	got := must[kongdb.Row](t)(c.RowToEntity(ctx, kongdb.Row{"id": "x", "username": "u", "custom_id": schema.Null,
		"junk": 1.0, "ws_id": "w"}, nil))
	eq(t, got, kongdb.Row{"id": "x", "username": "u"})
	got = must[kongdb.Row](t)(c.RowToEntity(ctx, kongdb.Row{"id": "x", "ws_id": "w"}, M{"show_ws_id": true, "nulls": true}))
	eq(t, got["ws_id"], "w")
}
