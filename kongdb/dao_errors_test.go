package kongdb_test

import (
	"context"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

func TestInvalidUnique(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		_, err := db.DAO("consumers").SelectBy(ctx, "custom_id", "", nil)
		e := wantErr(t, err, kongdb.InvalidUnique, prefix(db)+"length must be at least 1")
		eq(t, e.Name, "invalid unique custom_id")
	})
}

func TestInvalidForeignKey(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		s := &schema.Schema{Name: "profiles", PrimaryKey: []string{"id"}, Workspaceable: true, DBExport: true,
			Fields: []*schema.Field{
				{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
				{Name: "consumer", Type: schema.TypeForeign, Reference: "consumers", Unique: true, OnDelete: "cascade"},
			}}
		d := must[*kongdb.DAO](t)(db.Register(s))
		_, err := d.SelectBy(ctx, "consumer", M{"id": "x"}, nil)
		wantErr(t, err, kongdb.InvalidForeignKey, prefix(db)+`invalid foreign key: '{id="expected a valid UUID"}'`)
		_, err = d.SelectBy(ctx, "consumer", "x", nil)
		wantArgErr(t, err, "consumer must be a table")
		bob := must[kongdb.Row](t)(db.DAO("consumers").Insert(ctx, M{"username": "bob"}, nil))
		p := must[kongdb.Row](t)(d.Insert(ctx, M{"consumer": M{"id": bob["id"]}}, nil))
		got := must[kongdb.Row](t)(d.SelectBy(ctx, "consumer", M{"id": bob["id"]}, nil))
		eq(t, got["id"], p["id"])
		_, err = d.Insert(ctx, M{"consumer": M{"id": bob["id"]}}, nil)
		wantErr(t, err, kongdb.UniqueViolation, prefix(db)+`UNIQUE violation detected on '{consumer={id="`+bob["id"].(string)+`"}}'`)
	})
}

// failRunner makes every Lua function fail the way a transformation
// returning nil, "boom" does.
type failRunner struct{}

func (failRunner) CallFunc(_ context.Context, fn *schema.Func, args ...any) ([]any, error) {
	if fn.Ref == "t.on_write" {
		return []any{nil, "boom"}, nil
	}
	return []any{true}, nil
}

func TestTransformationError(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		s := &schema.Schema{Name: "secrets", PrimaryKey: []string{"id"}, DBExport: true,
			Fields: []*schema.Field{
				{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
				{Name: "value", Type: schema.TypeString},
			},
			Transformations: []schema.Transformation{{Input: []string{"value"}, OnWrite: &schema.Func{Ref: "t.on_write"}}},
		}
		d := must[*kongdb.DAO](t)(db.Register(s))
		fctx := schema.WithFuncRunner(context.Background(), failRunner{})
		_, err := d.Insert(fctx, M{"value": "x"}, nil)
		wantErr(t, err, kongdb.TransformationError, prefix(db)+"transformation failed: boom")
		// transform = false skips it
		must[kongdb.Row](t)(d.Insert(fctx, M{"value": "x"}, M{"transform": false}))
	})
}
