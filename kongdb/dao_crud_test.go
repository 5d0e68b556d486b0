package kongdb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

func TestInsertSelect(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		c := db.DAO("consumers")
		bob := must[kongdb.Row](t)(c.Insert(ctx, M{"username": "bob", "tags": []any{"a", "b"}}, nil))
		id, _ := bob["id"].(string)
		if !schema.IsUUID(id) {
			t.Fatalf("id %v", bob["id"])
		}
		if _, ok := bob["created_at"].(float64); !ok {
			t.Fatalf("created_at %v", bob["created_at"])
		}
		if _, has := bob["custom_id"]; has {
			t.Fatal("entities carry no nulls without the nulls option")
		}
		if _, has := bob["ws_id"]; has {
			t.Fatal("ws_id shown without show_ws_id")
		}
		got := must[kongdb.Row](t)(c.Select(ctx, M{"id": id}, nil))
		eq(t, got, bob)
		// pk extracted from an entity table
		got = must[kongdb.Row](t)(c.Select(ctx, bob, nil))
		eq(t, got["username"], "bob")
		// nulls option
		got = must[kongdb.Row](t)(c.Select(ctx, M{"id": id}, M{"nulls": true}))
		eq(t, got["custom_id"], schema.Null)
		// show_ws_id
		got = must[kongdb.Row](t)(c.Select(ctx, M{"id": id}, M{"show_ws_id": true}))
		ws := must[string](t)(db.DefaultWorkspace(ctx))
		eq(t, got["ws_id"], ws)
		// missing row: nil, no error
		none, err := c.Select(ctx, M{"id": "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"}, nil)
		if none != nil || err != nil {
			t.Fatalf("missing row: %v %v", none, err)
		}
		// returned entities are copies
		got["username"] = "mallory"
		again := must[kongdb.Row](t)(c.Select(ctx, M{"id": id}, nil))
		eq(t, again["username"], "bob")
	})
}

func TestInsertErrors(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := "[" + db.Strategy() + "] "
		c := db.DAO("consumers")
		_, err := c.Insert(ctx, M{}, nil)
		wantErr(t, err, kongdb.SchemaViolation,
			p+"schema violation (at least one of these fields must be non-empty: 'custom_id', 'username')")
		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "bob"}, nil))
		_, err = c.Insert(ctx, M{"username": "bob"}, nil)
		e := wantErr(t, err, kongdb.UniqueViolation, p+`UNIQUE violation detected on '{username="bob"}'`)
		eq(t, e.Fields, M{"username": "bob"})
		eq(t, e.Code.HTTPStatus(), 409)

		bob := must[kongdb.Row](t)(c.SelectBy(ctx, "username", "bob", nil))
		_, err = c.Insert(ctx, M{"id": bob["id"], "username": "alice"}, nil)
		wantErr(t, err, kongdb.PrimaryKeyViolation, p+`primary key violation on key '{id="`+bob["id"].(string)+`"}'`)

		_, err = c.Insert(ctx, M{"username": "x"}, M{"ttl": 10})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (ttl: cannot be used with 'consumers')")

		_, err = c.Insert(ctx, "nope", nil)
		wantArgErr(t, err, "entity must be a table")
		_, err = c.Insert(ctx, M{}, "nope")
		wantArgErr(t, err, "options must be a table when specified")
	})
}

func TestSelectErrors(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := "[" + db.Strategy() + "] "
		c := db.DAO("consumers")
		_, err := c.Select(ctx, M{"id": "nope"}, nil)
		wantErr(t, err, kongdb.InvalidPrimaryKey, p+`invalid primary key: '{id="expected a valid UUID"}'`)
		_, err = c.Select(ctx, M{}, nil)
		wantErr(t, err, kongdb.InvalidPrimaryKey, p+`invalid primary key: '{id="missing primary key"}'`)
		_, err = c.Select(ctx, "nope", nil)
		wantArgErr(t, err, "primary_key must be a table")
		_, err = c.Select(ctx, M{"id": "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"}, M{"show_ws_id": "yes"})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (show_ws_id: must be a boolean)")
		_, err = c.Select(ctx, M{"id": "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"}, M{"workspace": 12.0})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (workspace: must be a string or null)")
		_, err = c.Select(ctx, M{"id": "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"}, M{"workspace": "nowhere"})
		wantErr(t, err, kongdb.InvalidOptions, p+"invalid option (workspace: invalid workspace)")
		_, err = c.Select(ctx, M{"id": "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"},
			M{"transform": 1.0, "export": "x", "skip_ttl": 0.0})
		wantErr(t, err, kongdb.InvalidOptions,
			p+"3 option violations (export: must be a boolean; skip_ttl: must be a boolean; transform: must be a boolean)")
	})
}

func TestSelectByUnique(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := "[" + db.Strategy() + "] "
		c := db.DAO("consumers")
		bob := must[kongdb.Row](t)(c.Insert(ctx, M{"username": "bob", "custom_id": "c1"}, nil))
		eq(t, must[kongdb.Row](t)(c.SelectBy(ctx, "username", "bob", nil)), bob)
		eq(t, must[kongdb.Row](t)(c.SelectBy(ctx, "custom_id", "c1", nil)), bob)
		none, err := c.SelectBy(ctx, "username", "nobody", nil)
		if none != nil || err != nil {
			t.Fatalf("missing: %v %v", none, err)
		}
		_, err = c.SelectBy(ctx, "username", 12.0, nil)
		wantArgErr(t, err, "username must be a string")
		_, err = c.SelectBy(ctx, "username", "bob", M{"workspace": schema.Null})
		wantErr(t, err, kongdb.InvalidUniqueGlobal, p+"unique key username is invalid for global query")
		_, err = c.SelectBy(ctx, "username", "bob", 3.0)
		wantArgErr(t, err, "options must be a table when specified")
		_, err = c.SelectBy(ctx, "created_at", 1.0, nil)
		wantArgErr(t, err, "attempt to call method 'select_by_created_at' (a nil value)")
		_, err = c.DeleteBy(ctx, "nope", "x", nil)
		wantArgErr(t, err, "attempt to call method 'delete_by_nope' (a nil value)")

		// workspace by name
		got := must[kongdb.Row](t)(c.SelectBy(ctx, "username", "bob", M{"workspace": "default"}))
		eq(t, got["id"], bob["id"])
	})
}

func TestUpdate(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		p := "[" + db.Strategy() + "] "
		c := db.DAO("consumers")
		bob := must[kongdb.Row](t)(c.Insert(ctx, M{"username": "bob", "custom_id": "c1"}, nil))
		id := bob["id"].(string)
		up := must[kongdb.Row](t)(c.Update(ctx, M{"id": id}, M{"custom_id": "c2"}, nil))
		eq(t, up["custom_id"], "c2")
		eq(t, up["username"], "bob")
		eq(t, up["created_at"], bob["created_at"])
		// set to null
		up = must[kongdb.Row](t)(c.Update(ctx, M{"id": id}, M{"custom_id": schema.Null}, nil))
		if _, has := up["custom_id"]; has {
			t.Fatalf("custom_id not cleared: %v", up)
		}
		missing := "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"
		_, err := c.Update(ctx, M{"id": missing}, M{"custom_id": "x"}, nil)
		e := wantErr(t, err, kongdb.NotFound, p+`could not find the entity with primary key '{id="`+missing+`"}'`)
		eq(t, e.Code.HTTPStatus(), 404)
		_, err = c.UpdateBy(ctx, "username", "nobody", M{"custom_id": "x"}, nil)
		wantErr(t, err, kongdb.NotFound, p+`could not find the entity with '{username="nobody"}'`)
		up = must[kongdb.Row](t)(c.UpdateBy(ctx, "username", "bob", M{"username": "robert"}, nil))
		eq(t, up["username"], "robert")
		// a partial update that empties the entity check
		_, err = c.Update(ctx, M{"id": id}, M{"username": schema.Null}, nil)
		if !kongdb.IsCode(err, kongdb.SchemaViolation) {
			t.Fatalf("want schema violation, got %v", err)
		}
		// unique conflict on update
		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "alice"}, nil))
		_, err = c.Update(ctx, M{"id": id}, M{"username": "alice"}, nil)
		wantErr(t, err, kongdb.UniqueViolation, p+`UNIQUE violation detected on '{username="alice"}'`)
		_, err = c.Update(ctx, M{"id": id}, "x", nil)
		wantArgErr(t, err, "entity must be a table")
	})
}

func TestUpsert(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		rec := &recorder{}
		db.SetEventHandler(rec)
		c := db.DAO("consumers")
		id := "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"
		a := must[kongdb.Row](t)(c.Upsert(ctx, M{"id": id}, M{"username": "bob", "custom_id": "c1"}, nil))
		eq(t, a["id"], id)
		b := must[kongdb.Row](t)(c.Upsert(ctx, M{"id": id}, M{"username": "bob2"}, nil))
		eq(t, b["username"], "bob2")
		if _, has := b["custom_id"]; has {
			t.Fatal("upsert is a full replace")
		}
		ops := rec.ops()
		eq(t, ops, []string{"consumers:create", "consumers:update"})

		// upsert_by keeps the existing primary key
		c2 := must[kongdb.Row](t)(c.UpsertBy(ctx, "username", "bob2", M{"custom_id": "z"}, nil))
		eq(t, c2["id"], id)
		eq(t, c2["username"], "bob2")
		eq(t, c2["custom_id"], "z")
		n := must[kongdb.Row](t)(c.UpsertBy(ctx, "username", "carol", M{}, nil))
		if n["id"] == id {
			t.Fatal("a new row needs a new id")
		}
		eq(t, rec.ops()[2:], []string{"consumers:update", "consumers:create"})
	})
}

func TestDelete(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		rec := &recorder{}
		db.SetEventHandler(rec)
		c := db.DAO("consumers")
		bob := must[kongdb.Row](t)(c.Insert(ctx, M{"username": "bob"}, nil))
		ok := must[bool](t)(c.Delete(ctx, M{"id": bob["id"]}, nil))
		if !ok {
			t.Fatal("delete returned false")
		}
		if r, _ := c.Select(ctx, bob, nil); r != nil {
			t.Fatal("still there")
		}
		// Kong: deleting a missing row is true, with no event
		ok = must[bool](t)(c.Delete(ctx, M{"id": bob["id"]}, nil))
		if !ok {
			t.Fatal("delete of missing row must be true")
		}
		eq(t, rec.ops(), []string{"consumers:create", "consumers:delete"})
		ev := rec.events[1]
		eq(t, ev.Entity["username"], "bob")
		ws := must[string](t)(db.DefaultWorkspace(ctx))
		eq(t, ev.Entity["ws_id"], ws)

		must[kongdb.Row](t)(c.Insert(ctx, M{"username": "carol"}, nil))
		ok = must[bool](t)(c.DeleteBy(ctx, "username", "carol", nil))
		if !ok {
			t.Fatal("delete_by")
		}
		ok = must[bool](t)(c.DeleteBy(ctx, "username", "carol", nil))
		if !ok {
			t.Fatal("delete_by of missing row must be true")
		}
		_, err := c.Delete(ctx, M{"id": "x"}, nil)
		wantErr(t, err, kongdb.InvalidPrimaryKey, "["+db.Strategy()+`] invalid primary key: '{id="expected a valid UUID"}'`)
	})
}

type recorder struct{ events []*kongdb.CrudEvent }

func (r *recorder) PostCrudEvent(_ context.Context, ev *kongdb.CrudEvent) error {
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) ops() []string {
	var out []string
	for _, e := range r.events {
		out = append(out, e.Schema.Name+":"+e.Operation)
	}
	return out
}

func prefix(db *kongdb.DB) string { return "[" + db.Strategy() + "] " }

var _ = strings.Contains
