package kongdb_test

import (
	"fmt"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

func TestForeignKeys(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		must[*kongdb.DAO](t)(db.Register(keyauth()))
		ka := db.DAO("keyauth_credentials")
		cons := db.DAO("consumers")
		missing := "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"
		_, err := ka.Insert(ctx, M{"key": "k1", "consumer": M{"id": missing}}, nil)
		e := wantErr(t, err, kongdb.ForeignKeyViolation,
			p+`the foreign key '{id="`+missing+`"}' does not reference an existing 'consumers' entity.`)
		eq(t, e.Fields, M{"consumer": M{"id": missing}})

		// resolve_foreign: a consumer given by its endpoint key
		bob := must[kongdb.Row](t)(cons.Insert(ctx, M{"username": "bob"}, nil))
		cred := must[kongdb.Row](t)(ka.Insert(ctx, M{"key": "k1", "consumer": M{"username": "bob"}}, nil))
		eq(t, cred["consumer"], M{"id": bob["id"]})
		_, err = ka.Insert(ctx, M{"key": "k2", "consumer": M{"username": "nobody"}}, nil)
		wantErr(t, err, kongdb.ForeignKeysUnresolved,
			p+`foreign key unresolved (consumer.username: the foreign key cannot be resolved with '{username="nobody"}' for an existing 'consumers' entity)`)

		// page_for / each_for
		for i := 2; i <= 4; i++ {
			must[kongdb.Row](t)(ka.Insert(ctx, M{"key": fmt.Sprintf("k%d", i), "consumer": M{"id": bob["id"]}}, nil))
		}
		alice := must[kongdb.Row](t)(cons.Insert(ctx, M{"username": "alice"}, nil))
		must[kongdb.Row](t)(ka.Insert(ctx, M{"key": "a1", "consumer": M{"id": alice["id"]}}, nil))
		rows, off, err := ka.PageFor(ctx, "consumer", M{"id": bob["id"]}, 3.0, nil, nil)
		if err != nil || len(rows) != 3 || off == "" {
			t.Fatalf("page_for: %d %q %v", len(rows), off, err)
		}
		rows, off, _ = ka.PageFor(ctx, "consumer", M{"id": bob["id"]}, 3.0, off, nil)
		eq(t, len(rows), 1)
		eq(t, off, "")
		n := 0
		it := must[func(func(kongdb.Row, error) bool)](t)(eachSeq(ka.EachFor(ctx, "consumer", M{"id": alice["id"]}, nil, nil)))
		for r, err := range it {
			if err != nil {
				t.Fatal(err)
			}
			eq(t, r["key"], "a1")
			n++
		}
		eq(t, n, 1)
		_, _, err = ka.PageFor(ctx, "consumer", M{"id": "nope"}, nil, nil, nil)
		wantErr(t, err, kongdb.InvalidPrimaryKey, p+`invalid primary key: '{id="expected a valid UUID"}'`)
		_, _, err = ka.PageFor(ctx, "consumer", "nope", nil, nil, nil)
		wantArgErr(t, err, "foreign_key must be a table")
		// each_for with bad values yields the error once
		it = must[func(func(kongdb.Row, error) bool)](t)(eachSeq(ka.EachFor(ctx, "consumer", M{"id": "x"}, nil, nil)))
		for r, err := range it {
			if r != nil || !kongdb.IsCode(err, kongdb.InvalidPrimaryKey) {
				t.Fatalf("each_for error: %v %v", r, err)
			}
		}
	})
}

func TestCascadeDelete(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		must[*kongdb.DAO](t)(db.Register(keyauth()))
		must[*kongdb.DAO](t)(db.Register(acls()))
		withKeyAuth(t, db)
		rec := &recorder{}
		db.SetEventHandler(rec)
		cons := db.DAO("consumers")
		bob := must[kongdb.Row](t)(cons.Insert(ctx, M{"username": "bob"}, nil))
		must[kongdb.Row](t)(db.DAO("keyauth_credentials").Insert(ctx, M{"key": "k1", "consumer": M{"id": bob["id"]}}, nil))
		must[kongdb.Row](t)(db.DAO("acls").Insert(ctx, M{"group": "g", "consumer": M{"id": bob["id"]}}, nil))
		plugin := must[kongdb.Row](t)(db.DAO("plugins").Insert(ctx, M{"name": "key-auth", "config": M{}, "consumer": M{"id": bob["id"]}}, nil))
		rec.events = nil
		must[bool](t)(cons.Delete(ctx, bob, nil))
		ops := rec.ops()
		if len(ops) != 4 || ops[0] != "consumers:delete" {
			t.Fatalf("events %v", ops)
		}
		got := map[string]bool{}
		for _, o := range ops[1:] {
			got[o] = true
		}
		eq(t, got, map[string]bool{"keyauth_credentials:delete": true, "acls:delete": true, "plugins:delete": true})
		for _, ev := range rec.events {
			if ev.Entity == nil {
				t.Fatal("delete event without entity")
			}
		}
		// the rows are gone too
		if r, _ := db.DAO("keyauth_credentials").SelectBy(ctx, "key", "k1", nil); r != nil {
			t.Fatal("credential survived its consumer")
		}
		if r, _ := db.DAO("plugins").Select(ctx, plugin, nil); r != nil {
			t.Fatal("plugin survived its consumer")
		}
	})
}

func TestRestrictAndSetNull(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := prefix(db)
		routes := db.DAO("routes")
		svc := must[kongdb.Row](t)(db.DAO("services").Insert(ctx, M{"name": "s", "host": "example.com"}, nil))
		must[kongdb.Row](t)(routes.Insert(ctx, M{"paths": []any{"/"}, "service": M{"id": svc["id"]}}, nil))
		_, err := db.DAO("services").Delete(ctx, svc, nil)
		e := wantErr(t, err, kongdb.ForeignKeyViolation, p+"an existing 'routes' entity references this 'services' entity")
		eq(t, e.Fields, M{"@referenced_by": "routes"})
		if r, _ := db.DAO("services").Select(ctx, svc, nil); r == nil {
			t.Fatal("a restricted delete removed the row")
		}
	})
	// on_delete = "null" (memory: no table for it in postgres core)
	db, _ := memDB(t)
	parent := &schema.Schema{Name: "parents", PrimaryKey: []string{"id"}, Fields: []*schema.Field{
		{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
	}}
	child := &schema.Schema{Name: "children", PrimaryKey: []string{"id"}, Fields: []*schema.Field{
		{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
		{Name: "parent", Type: schema.TypeForeign, Reference: "parents", OnDelete: "null"},
	}}
	pd := must[*kongdb.DAO](t)(db.Register(parent))
	cd := must[*kongdb.DAO](t)(db.Register(child))
	pr := must[kongdb.Row](t)(pd.Insert(ctx, M{}, nil))
	cr := must[kongdb.Row](t)(cd.Insert(ctx, M{"parent": M{"id": pr["id"]}}, nil))
	must[bool](t)(pd.Delete(ctx, pr, nil))
	got := must[kongdb.Row](t)(cd.Select(ctx, cr, M{"nulls": true}))
	eq(t, got["parent"], schema.Null)
}

func TestCacheKey(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		ws := must[string](t)(db.DefaultWorkspace(ctx))
		withKeyAuth(t, db)
		must[*kongdb.DAO](t)(db.Register(keyauth()))
		must[*kongdb.DAO](t)(db.Register(acls()))
		ka := db.DAO("keyauth_credentials")
		ck := func(d *kongdb.DAO, k any, args ...any) string {
			t.Helper()
			return must[string](t)(d.CacheKey(ctx, k, args...))
		}
		eq(t, ck(ka, "abc"), "keyauth_credentials:abc:::::"+ws)
		eq(t, ck(ka, "a", "b", nil, schema.Null, "e"), "keyauth_credentials:a:b:::e:"+ws)
		eq(t, ck(ka, "a", nil, nil, nil, nil, "ws2"), "keyauth_credentials:a:::::ws2")
		eq(t, ck(ka, M{"key": "abc"}), "keyauth_credentials:abc:::::"+ws)
		eq(t, ck(ka, M{"key": "abc", "ws_id": "w"}), "keyauth_credentials:abc:::::w")
		// no cache_key values: the primary key
		eq(t, ck(ka, M{"id": "i"}), "keyauth_credentials:i:::::"+ws)
		eq(t, ck(db.DAO("consumers"), M{"id": "i", "username": "u"}), "consumers:i:::::"+ws)
		eq(t, ck(db.DAO("acls"), M{"consumer": M{"id": "c"}, "group": "g"}), "acls:c:g::::"+ws)
		// non-workspaceable: empty ws segment
		eq(t, ck(db.DAO("workspaces"), "default"), "workspaces:default:::::")
		_, err := ka.CacheKey(ctx, true)
		wantArgErr(t, err, "key must be a string or an entity table")

		// plugins: plugins:<name>:<route>:<service>:<consumer>::<ws>
		bob := must[kongdb.Row](t)(db.DAO("consumers").Insert(ctx, M{"username": "bob"}, nil))
		pl := db.DAO("plugins")
		plugin := must[kongdb.Row](t)(pl.Insert(ctx, M{"name": "key-auth", "config": M{}, "consumer": M{"id": bob["id"]}}, nil))
		key := "plugins:key-auth:::" + bob["id"].(string) + "::" + ws
		eq(t, ck(pl, plugin), key)
		got := must[kongdb.Row](t)(pl.SelectByCacheKey(ctx, key, nil))
		eq(t, got["id"], plugin["id"])
		got = must[kongdb.Row](t)(pl.SelectByCacheKey(ctx, M{"name": "key-auth", "consumer": M{"id": bob["id"]}}, nil))
		eq(t, got["id"], plugin["id"])
		// single-field cache_key: select_by_<field> with the raw value
		cred := must[kongdb.Row](t)(ka.Insert(ctx, M{"key": "k1", "consumer": M{"id": bob["id"]}}, nil))
		got = must[kongdb.Row](t)(ka.SelectByCacheKey(ctx, "k1", nil))
		eq(t, got["id"], cred["id"])
		_, err = db.DAO("consumers").SelectByCacheKey(ctx, "x", nil)
		wantArgErr(t, err, "entity does not have a cache_key defined")

		// the composite cache_key is unique
		_, err = pl.Insert(ctx, M{"name": "key-auth", "config": M{}, "consumer": M{"id": bob["id"]}}, nil)
		wantErr(t, err, kongdb.UniqueViolation, prefix(db)+
			`UNIQUE violation detected on '{consumer={id="`+bob["id"].(string)+`"},name="key-auth",route=null,service=null}'`)
	})
}
