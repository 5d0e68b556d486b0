package memory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/schema"
)

type M = map[string]any

var ctx = context.Background()

func uuidField() *schema.Field {
	return &schema.Field{Name: "id", Type: schema.TypeString, UUID: true, Auto: true}
}

func newDB(t *testing.T, ss ...*schema.Schema) *kongdb.DB {
	t.Helper()
	db := kongdb.New(memory.New(), kongdb.DBOptions{NoCore: true})
	for _, s := range ss {
		if _, err := db.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestCompositePrimaryKey(t *testing.T) {
	s := &schema.Schema{Name: "versions", PrimaryKey: []string{"name", "version"}, Fields: []*schema.Field{
		{Name: "name", Type: schema.TypeString, Required: true, RequiredSet: true},
		{Name: "version", Type: schema.TypeInteger, Required: true, RequiredSet: true},
		{Name: "note", Type: schema.TypeString},
	}}
	db := newDB(t, s)
	d := db.DAO("versions")
	for _, n := range []string{"b", "a"} {
		for v := 3; v >= 1; v-- {
			if _, err := d.Insert(ctx, M{"name": n, "version": float64(v)}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err := d.Insert(ctx, M{"name": "a", "version": 2.0}, nil)
	if e, ok := kongdb.AsError(err); !ok || e.Error() != `[off] primary key violation on key '{name="a",version=2}'` {
		t.Fatalf("got %v", err)
	}
	rows, off, err := d.Page(ctx, 4.0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s%v", r["name"], r["version"]))
	}
	if fmt.Sprint(got) != "[a1 a2 a3 b1]" {
		t.Fatalf("order %v", got)
	}
	// the token holds both key values: ["b",1]
	if off != "WyJiIiwxXQ" {
		t.Fatalf("token %q", off)
	}
	rows, off, _ = d.Page(ctx, 4.0, off, nil)
	if len(rows) != 2 || off != "" || rows[0]["version"] != 2.0 {
		t.Fatalf("page 2: %v %q", rows, off)
	}
	r, err := d.Select(ctx, M{"name": "b", "version": 3.0}, nil)
	if err != nil || r == nil {
		t.Fatal(r, err)
	}
}

func TestCascadeIsRecursiveAndRestrictIsAtomic(t *testing.T) {
	a := &schema.Schema{Name: "as", PrimaryKey: []string{"id"}, Fields: []*schema.Field{uuidField()}}
	b := &schema.Schema{Name: "bs", PrimaryKey: []string{"id"}, Fields: []*schema.Field{uuidField(),
		{Name: "a", Type: schema.TypeForeign, Reference: "as", OnDelete: "cascade"}}}
	c := &schema.Schema{Name: "cs", PrimaryKey: []string{"id"}, Fields: []*schema.Field{uuidField(),
		{Name: "b", Type: schema.TypeForeign, Reference: "bs", OnDelete: "cascade"}}}
	r := &schema.Schema{Name: "rs", PrimaryKey: []string{"id"}, Fields: []*schema.Field{uuidField(),
		{Name: "c", Type: schema.TypeForeign, Reference: "cs"}}}
	db := newDB(t, a, b, c, r)
	var events []string
	db.SetEventHandler(kongdb.EventFunc(func(_ context.Context, ev *kongdb.CrudEvent) error {
		if ev.Operation == "delete" {
			events = append(events, ev.Schema.Name)
		}
		return nil
	}))
	ins := func(name string, e M) kongdb.Row {
		row, err := db.DAO(name).Insert(ctx, e, nil)
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	ar := ins("as", M{})
	br := ins("bs", M{"a": M{"id": ar["id"]}})
	cr := ins("cs", M{"b": M{"id": br["id"]}})
	rr := ins("rs", M{"c": M{"id": cr["id"]}})

	// a restricted grandchild blocks the whole delete and changes nothing
	_, err := db.DAO("as").Delete(ctx, ar, nil)
	if e, ok := kongdb.AsError(err); !ok || e.Error() != "[off] an existing 'rs' entity references this 'cs' entity" {
		t.Fatalf("got %v", err)
	}
	for name, row := range map[string]kongdb.Row{"as": ar, "bs": br, "cs": cr} {
		if got, _ := db.DAO(name).Select(ctx, row, nil); got == nil {
			t.Fatalf("%s row removed by a failed delete", name)
		}
	}
	if _, err := db.DAO("rs").Delete(ctx, rr, nil); err != nil {
		t.Fatal(err)
	}
	events = nil
	if _, err := db.DAO("as").Delete(ctx, ar, nil); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(events) != "[as bs cs]" {
		t.Fatalf("delete events %v", events)
	}
	if got, _ := db.DAO("cs").Select(ctx, cr, nil); got != nil {
		t.Fatal("grandchild survived")
	}
}

func TestUniqueAcrossWorkspaces(t *testing.T) {
	ws := &schema.Schema{Name: "workspaces", PrimaryKey: []string{"id"}, CacheKey: []string{"name"}, EndpointKey: "name",
		Fields: []*schema.Field{uuidField(), {Name: "name", Type: schema.TypeString, Unique: true, Required: true, RequiredSet: true}}}
	s := &schema.Schema{Name: "things", PrimaryKey: []string{"id"}, Workspaceable: true, Fields: []*schema.Field{uuidField(),
		{Name: "global", Type: schema.TypeString, Unique: true, UniqueAcrossWS: true},
		{Name: "local", Type: schema.TypeString, Unique: true}}}
	db := newDB(t, ws, s)
	d := db.DAO("things")
	w2, err := db.DAO("workspaces").Insert(ctx, M{"name": "w2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Insert(ctx, M{"global": "g", "local": "l"}, nil); err != nil {
		t.Fatal(err)
	}
	c2 := kongdb.WithWorkspace(ctx, w2["id"].(string))
	if _, err := d.Insert(c2, M{"local": "l"}, nil); err != nil {
		t.Fatalf("local unique is per workspace: %v", err)
	}
	_, err = d.Insert(c2, M{"global": "g"}, nil)
	if e, ok := kongdb.AsError(err); !ok || e.Error() != `[off] UNIQUE violation detected on '{global="g"}'` {
		t.Fatalf("got %v", err)
	}
	// a global lookup is allowed on unique_across_ws fields only
	if r, err := d.SelectBy(ctx, "global", "g", M{"workspace": schema.Null}); err != nil || r == nil {
		t.Fatal(r, err)
	}
}
