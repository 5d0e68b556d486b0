package kongdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
	"github.com/luahost/luahost/kongdb/schema"
)

func TestPluginConfig(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		withKeyAuth(t, db)
		pl := db.DAO("plugins")
		got := must[kongdb.Row](t)(pl.Insert(ctx, M{"name": "key-auth"}, nil))
		eq(t, got["config"], M{"key_names": []any{"apikey"}, "hide_credentials": false})
		eq(t, got["enabled"], true)
		_, err := pl.Insert(ctx, M{"name": "nope"}, nil)
		wantErr(t, err, kongdb.SchemaViolation,
			p+"schema violation (name: plugin 'nope' not enabled; add it to the 'plugins' configuration property)")
		_, err = pl.Insert(ctx, M{"name": "key-auth", "config": M{"hide_credentials": "yes"}}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+"schema violation (config.hide_credentials: expected a boolean)")
	})
}

func TestTTL(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	mem := memory.New()
	mem.SetClock(clock)
	db := kongdb.New(mem, kongdb.DBOptions{Now: clock})
	p := prefix(db)
	must[*kongdb.DAO](t)(db.Register(keyauth()))
	ka := db.DAO("keyauth_credentials")
	bob := must[kongdb.Row](t)(db.DAO("consumers").Insert(ctx, M{"username": "bob"}, nil))
	// the expiry is created_at + ttl, both on the test clock
	cred := must[kongdb.Row](t)(ka.Insert(ctx, M{"key": "k1", "consumer": M{"id": bob["id"]}}, M{"ttl": 10.0}))
	eq(t, cred["created_at"], float64(now.Unix()))
	eq(t, cred["ttl"], 10.0)
	// export: the absolute expiry
	exp := must[func(func(kongdb.Row, error) bool)](t)(eachSeq(ka.EachForExport(ctx, nil, nil)))
	for r, err := range exp {
		if err != nil {
			t.Fatal(err)
		}
		eq(t, r["ttl"], float64(now.Unix()+10))
	}
	now = now.Add(3500 * time.Millisecond)
	got := must[kongdb.Row](t)(ka.SelectBy(ctx, "key", "k1", nil))
	eq(t, got["ttl"], 6.0)                 // remaining whole seconds
	now = now.Add(6500 * time.Millisecond) // exactly at the expiry: still visible (ttl >= now)
	got = must[kongdb.Row](t)(ka.SelectBy(ctx, "key", "k1", nil))
	eq(t, got["ttl"], 0.0)
	now = now.Add(time.Millisecond)
	if r, _ := ka.SelectBy(ctx, "key", "k1", nil); r != nil {
		t.Fatalf("expired row visible: %v", r)
	}
	if rows, _, _ := ka.Page(ctx, nil, nil, nil); len(rows) != 0 {
		t.Fatal("expired row paged")
	}
	if r, _ := ka.SelectBy(ctx, "key", "k1", M{"skip_ttl": true}); r == nil {
		t.Fatal("skip_ttl hides an expired row")
	}
	// an expired row does not block a new one with the same key
	must[kongdb.Row](t)(ka.Insert(ctx, M{"key": "k1", "consumer": M{"id": bob["id"]}}, nil))
	got = must[kongdb.Row](t)(ka.SelectBy(ctx, "key", "k1", nil))
	if _, has := got["ttl"]; has {
		t.Fatalf("no ttl: no ttl field, got %v", got["ttl"])
	}
	// upsert without ttl clears an expiry
	must[kongdb.Row](t)(ka.UpsertBy(ctx, "key", "k1", M{"consumer": M{"id": bob["id"]}}, M{"ttl": 100.0}))
	got = must[kongdb.Row](t)(ka.SelectBy(ctx, "key", "k1", nil))
	if ttl, _ := got["ttl"].(float64); ttl < 90 {
		t.Fatalf("ttl %v", got["ttl"])
	}
	must[kongdb.Row](t)(ka.UpsertBy(ctx, "key", "k1", M{"consumer": M{"id": bob["id"]}}, nil))
	got = must[kongdb.Row](t)(ka.SelectBy(ctx, "key", "k1", nil))
	if _, has := got["ttl"]; has {
		t.Fatalf("upsert without ttl kept %v", got["ttl"])
	}
	_, err := ka.Insert(ctx, M{"key": "k2", "consumer": M{"id": bob["id"]}}, M{"ttl": -1.0})
	wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (ttl: must be an integer between 0 and 100000000)")
}

func TestEvents(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		rec := &recorder{}
		db.SetEventHandler(rec)
		c := db.DAO("consumers")
		bob := must[kongdb.Row](t)(c.Insert(ctx, M{"username": "bob"}, nil))
		must[kongdb.Row](t)(c.Update(ctx, bob, M{"custom_id": "c"}, nil))
		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "quiet"}, M{"no_broadcast_crud_event": true}))
		eq(t, rec.ops(), []string{"consumers:create", "consumers:update"})
		up := rec.events[1]
		eq(t, up.OldEntity["custom_id"], nil)
		eq(t, up.Entity["custom_id"], "c")
		for _, ev := range rec.events {
			for k, v := range ev.Entity {
				if schema.IsNull(v) {
					t.Fatalf("null %s in event", k)
				}
			}
		}
		// the event holds a copy
		rec.events[0].Entity["username"] = "changed"
		eq(t, must[kongdb.Row](t)(c.Select(ctx, bob, nil))["username"], "bob")

		// a custom DAO overrides post_crud_event and calls the default
		var seen []string
		c.PostCrudEvent = func(ctx context.Context, op string, e, old kongdb.Row, o *kongdb.Options) {
			seen = append(seen, op)
			c.DefaultPostCrudEvent(ctx, op, e, old, o)
		}
		must[bool](t)(c.Delete(ctx, bob, nil))
		eq(t, seen, []string{"delete"})
		eq(t, rec.ops()[2], "consumers:delete")
	})
}

func TestWorkspaces(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		def := must[string](t)(db.DefaultWorkspace(ctx))
		other := must[kongdb.Row](t)(db.DAO("workspaces").Insert(ctx, M{"name": "other"}, nil))
		oid := other["id"].(string)
		c := db.DAO("consumers")
		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "bob"}, nil))
		// unique per workspace: the same username in another workspace
		octx := kongdb.WithWorkspace(ctx, oid)
		ob := must[kongdb.Row](t)(c.Insert(octx, M{"username": "bob"}, M{"show_ws_id": true}))
		eq(t, ob["ws_id"], oid)
		got := must[kongdb.Row](t)(c.SelectBy(ctx, "username", "bob", M{"show_ws_id": true}))
		eq(t, got["ws_id"], def)
		got = must[kongdb.Row](t)(c.SelectBy(ctx, "username", "bob", M{"workspace": "other", "show_ws_id": true}))
		eq(t, got["ws_id"], oid)
		if r, _ := c.Select(ctx, ob, nil); r != nil {
			t.Fatal("a row of another workspace is visible")
		}
		if r, _ := c.Select(ctx, ob, M{"workspace": schema.Null}); r == nil {
			t.Fatal("workspace = null is a global query")
		}
		rows, _, _ := c.Page(ctx, nil, nil, M{"workspace": schema.Null})
		eq(t, len(rows), 2)
		eq(t, must[string](t)(c.CacheKey(octx, "x")), "consumers:x:::::"+oid)
		_, err := db.DAO("workspaces").Insert(ctx, M{"name": "other"}, nil)
		wantErr(t, err, kongdb.UniqueViolation, p+`UNIQUE violation detected on '{name="other"}'`)
	})
}

func TestTruncate(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		c := db.DAO("consumers")
		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "bob"}, nil))
		if err := db.Truncate(ctx, "consumers"); err != nil {
			t.Fatal(err)
		}
		rows, _, _ := c.Page(ctx, nil, nil, nil)
		eq(t, len(rows), 0)
		old := must[string](t)(db.DefaultWorkspace(ctx))
		if err := db.Truncate(ctx, ""); err != nil {
			t.Fatal(err)
		}
		fresh := must[string](t)(db.DefaultWorkspace(ctx))
		row := must[kongdb.Row](t)(db.DAO("workspaces").SelectBy(ctx, "name", "default", nil))
		if row == nil || row["id"] != fresh {
			t.Fatalf("default workspace not re-created: %v", row)
		}
		if db.Strategy() != "off" && fresh == old {
			t.Fatalf("default workspace kept its id %q across truncate", old)
		}
	})
}

func TestPluginProtocols(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		withKeyAuth(t, db)
		svc := must[kongdb.Row](t)(db.DAO("services").Insert(ctx, M{"host": "example.com"}, nil))
		route := must[kongdb.Row](t)(db.DAO("routes").Insert(ctx, M{"protocols": []any{"https"}, "paths": []any{"/"},
			"service": M{"id": svc["id"]}}, nil))
		pl := db.DAO("plugins")
		_, err := pl.Insert(ctx, M{"name": "key-auth", "protocols": []any{"http"}, "route": M{"id": route["id"]}}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+"schema violation (protocols: must match the associated route's protocols)")
		_, err = pl.Insert(ctx, M{"name": "key-auth", "protocols": []any{"grpc"}, "service": M{"id": svc["id"]}}, nil)
		wantErr(t, err, kongdb.SchemaViolation,
			p+"schema violation (protocols: must match the protocols of at least one route pointing to this Plugin's service)")
		plugin := must[kongdb.Row](t)(pl.Insert(ctx, M{"name": "key-auth", "protocols": []any{"http", "https"},
			"route": M{"id": route["id"]}}, nil))
		// update: the route comes from the stored plugin
		_, err = pl.Update(ctx, plugin, M{"protocols": []any{"http"}}, nil)
		wantErr(t, err, kongdb.SchemaViolation, p+"schema violation (protocols: must match the associated route's protocols)")
		must[kongdb.Row](t)(pl.Update(ctx, plugin, M{"protocols": []any{"https"}}, nil))
	})
}

func TestWorkspaceReferences(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		missing := "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"
		_, err := db.DAO("consumers").Insert(ctx, M{"username": "x"}, M{"workspace": missing})
		wantErr(t, err, kongdb.InvalidWorkspace, p+"invalid workspace '"+missing+"'")
		w := must[kongdb.Row](t)(db.DAO("workspaces").Insert(ctx, M{"name": "w"}, nil))
		must[kongdb.Row](t)(db.DAO("consumers").Insert(ctx, M{"username": "x"}, M{"workspace": "w"}))
		_, err = db.DAO("workspaces").Delete(ctx, w, nil)
		wantErr(t, err, kongdb.ForeignKeyViolation, p+"an existing 'consumers' entity references this 'workspaces' entity")
	})
}

// A cache key needs the workspace: when looking up the default workspace
// fails, cache_key fails instead of returning a key without ws_id (one no
// cached entity has).
func TestCacheKeyWorkspaceLookupError(t *testing.T) {
	conn := migrationstest.Bootstrapped(t)
	db := kongdb.New(conn, kongdb.DBOptions{})
	_ = conn.Close() // every lookup now fails
	key, err := db.DAO("consumers").CacheKey(ctx, "alice")
	if err == nil {
		t.Fatalf("cache_key without a workspace: %q", key)
	}
}
