package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
)

func consumersSchema() *schema.Schema {
	s := &schema.Schema{Name: "consumers", PrimaryKey: []string{"id"}, Workspaceable: true, EndpointKey: "username",
		CacheKey: []string{"id"},
		Fields: []*schema.Field{
			{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
			{Name: "created_at", Type: schema.TypeInteger, Timestamp: true, Auto: true},
			{Name: "updated_at", Type: schema.TypeInteger, Timestamp: true, Auto: true},
			{Name: "username", Type: schema.TypeString, Unique: true},
			{Name: "custom_id", Type: schema.TypeString, Unique: true},
			{Name: "tags", Type: schema.TypeSet, Elements: &schema.Field{Type: schema.TypeString}},
		}}
	s.Index()
	return s
}

// keyauthSchema is key-auth's credential: ttl, workspaceable, a foreign
// consumer with cascade, a unique key.
func keyauthSchema(consumers *schema.Schema) *schema.Schema {
	s := &schema.Schema{Name: "keyauth_credentials", PrimaryKey: []string{"id"}, Workspaceable: true, TTL: true,
		EndpointKey: "key", CacheKey: []string{"key"},
		Fields: []*schema.Field{
			{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
			{Name: "created_at", Type: schema.TypeInteger, Timestamp: true, Auto: true},
			{Name: "consumer", Type: schema.TypeForeign, Reference: "consumers", RefSchema: consumers, OnDelete: "cascade"},
			{Name: "key", Type: schema.TypeString, Unique: true},
			{Name: "tags", Type: schema.TypeSet, Elements: &schema.Field{Type: schema.TypeString}},
		}}
	s.Index()
	return s
}

// things has a composite cache key, a record, a map, an integer and an
// array of records: the value mapping.
func thingsSchema(consumers *schema.Schema) *schema.Schema {
	s := &schema.Schema{Name: "things", PrimaryKey: []string{"id"}, Workspaceable: true,
		CacheKey: []string{"consumer", "name"},
		Fields: []*schema.Field{
			{Name: "id", Type: schema.TypeString, UUID: true},
			{Name: "consumer", Type: schema.TypeForeign, Reference: "consumers", RefSchema: consumers},
			{Name: "name", Type: schema.TypeString},
			{Name: "count", Type: schema.TypeInteger},
			{Name: "ratio", Type: schema.TypeNumber},
			{Name: "on", Type: schema.TypeBoolean},
			{Name: "conf", Type: schema.TypeRecord, Fields: []*schema.Field{{Name: "a", Type: schema.TypeString}}},
			{Name: "headers", Type: schema.TypeMap, Keys: &schema.Field{Type: schema.TypeString}, Values: &schema.Field{Type: schema.TypeString}},
			{Name: "rules", Type: schema.TypeArray, Elements: &schema.Field{Type: schema.TypeRecord}},
			{Name: "ids", Type: schema.TypeSet, Elements: &schema.Field{Type: schema.TypeString, UUID: true}},
		}}
	s.Index()
	return s
}

type fixture struct {
	c               *postgres.Connector
	consumers, keys kongdb.Strategy
	things          kongdb.Strategy
	ws              string
	o               *kongdb.Options
}

func setup(t *testing.T) *fixture { return setupTB(t) }

func setupTB(t testing.TB) *fixture {
	t.Helper()
	c := migrationstest.Bootstrapped(t)
	cs := consumersSchema()
	f := &fixture{c: c}
	var err error
	if f.consumers, err = c.NewStrategy(cs); err != nil {
		t.Fatal(err)
	}
	if f.keys, err = c.NewStrategy(keyauthSchema(cs)); err != nil {
		t.Fatal(err)
	}
	if f.things, err = c.NewStrategy(thingsSchema(cs)); err != nil {
		t.Fatal(err)
	}
	r, err := c.Query(context.Background(), "SELECT id FROM workspaces WHERE name = 'default'")
	if err != nil {
		t.Fatal(err)
	}
	f.ws = r.Rows[0]["id"].(string)
	f.o = &kongdb.Options{Workspace: f.ws}
	return f
}

func uuidN(n int) string { return fmt.Sprintf("6c1a0a9e-0000-4000-8000-%012d", n) }

func kerr(t *testing.T, err error) *kongdb.Error {
	t.Helper()
	e, ok := kongdb.AsError(err)
	if !ok {
		t.Fatalf("want *kongdb.Error, got %T %v", err, err)
	}
	return e
}

func TestInsertSelectValueMapping(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	bob, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob", "custom_id": schema.Null,
		"created_at": float64(1700000000), "updated_at": float64(1700000000), "tags": []any{"a", "b"}}, f.o)
	if err != nil {
		t.Fatal(err)
	}
	want := kongdb.Row{"id": uuidN(1), "username": "bob", "custom_id": schema.Null, "created_at": float64(1700000000),
		"updated_at": float64(1700000000), "tags": []any{"a", "b"}}
	if !reflect.DeepEqual(bob, want) {
		t.Fatalf("insert returned\n%#v\nwant\n%#v", bob, want)
	}
	thing := kongdb.Row{"id": uuidN(2), "consumer": map[string]any{"id": uuidN(1)}, "name": "x", "count": float64(3),
		"ratio": 0.5, "on": true, "conf": map[string]any{"a": "b", "n": schema.Null},
		"headers": map[string]any{"h": "v"}, "rules": []any{map[string]any{"x": float64(1)}},
		"ids": []any{uuidN(7)}, "cache_key": "things:" + uuidN(1) + ":x::::" + f.ws}
	got, err := f.things.Insert(ctx, thing, f.o)
	if err != nil {
		t.Fatal(err)
	}
	delete(thing, "cache_key")
	if !reflect.DeepEqual(got, thing) {
		t.Fatalf("things\n%#v\nwant\n%#v", got, thing)
	}
	// ws_id only on request; the composite cache_key is selectable.
	got, err = f.things.SelectByField(ctx, "cache_key", "things:"+uuidN(1)+":x::::"+f.ws, &kongdb.Options{Workspace: f.ws, ShowWsID: true})
	if err != nil || got == nil || got["ws_id"] != f.ws || got["name"] != "x" {
		t.Fatalf("select by cache_key: %v %v", got, err)
	}
	// Empty arrays come back as empty arrays, NULL foreign as Null.
	got, err = f.things.Insert(ctx, kongdb.Row{"id": uuidN(3), "consumer": schema.Null, "rules": []any{}, "ids": []any{}}, f.o)
	if err != nil {
		t.Fatal(err)
	}
	if !schema.IsNull(got["consumer"]) || !reflect.DeepEqual(got["rules"], []any{}) || !schema.IsNull(got["conf"]) {
		t.Fatalf("nulls: %#v", got)
	}
	// Not found: nil, nil. Other workspace: invisible; global: visible.
	if r, err := f.consumers.Select(ctx, kongdb.Row{"id": uuidN(99)}, f.o); r != nil || err != nil {
		t.Fatalf("missing: %v %v", r, err)
	}
	other := &kongdb.Options{Workspace: uuidN(98)}
	if r, _ := f.consumers.SelectByField(ctx, "username", "bob", other); r != nil {
		t.Fatal("row visible from another workspace")
	}
	if r, _ := f.consumers.SelectByField(ctx, "username", "bob", &kongdb.Options{GlobalWorkspace: true}); r == nil {
		t.Fatal("global select missed the row")
	}
}

func TestUniqueAndPrimaryKeyViolations(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	if _, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob"}, f.o); err != nil {
		t.Fatal(err)
	}
	_, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(2), "username": "bob"}, f.o)
	e := kerr(t, err)
	if e.Code != kongdb.UniqueViolation || e.Error() != `[postgres] UNIQUE violation detected on '{username="bob"}'` {
		t.Fatalf("unique: %d %q", e.Code, e.Error())
	}
	if !reflect.DeepEqual(e.Fields, map[string]any{"username": "bob"}) {
		t.Fatalf("fields %#v", e.Fields)
	}
	if postgres.SQLState(err) != "23505" {
		t.Fatalf("wrapped SQLSTATE %q", postgres.SQLState(err))
	}
	_, err = f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "alice"}, f.o)
	e = kerr(t, err)
	if e.Code != kongdb.PrimaryKeyViolation || e.Error() != `[postgres] primary key violation on key '{id="`+uuidN(1)+`"}'` {
		t.Fatalf("pk: %d %q", e.Code, e.Error())
	}
	// Composite cache_key.
	row := kongdb.Row{"id": uuidN(3), "consumer": map[string]any{"id": uuidN(1)}, "name": "x", "cache_key": "k"}
	if _, err := f.things.Insert(ctx, row, f.o); err != nil {
		t.Fatal(err)
	}
	row["id"] = uuidN(4)
	e = kerr(t, func() error { _, err := f.things.Insert(ctx, row, f.o); return err }())
	if e.Code != kongdb.UniqueViolation || e.Error() != `[postgres] UNIQUE violation detected on '{consumer={id="`+uuidN(1)+`"},name="x"}'` {
		t.Fatalf("cache_key: %q", e.Error())
	}
}

func TestForeignKeyViolationsAndCascade(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	_, err := f.keys.Insert(ctx, kongdb.Row{"id": uuidN(10), "key": "k", "consumer": map[string]any{"id": uuidN(1)}}, f.o)
	e := kerr(t, err)
	want := `[postgres] the foreign key '{id="` + uuidN(1) + `"}' does not reference an existing 'consumers' entity.`
	if e.Code != kongdb.ForeignKeyViolation || e.Error() != want {
		t.Fatalf("invalid reference: %q", e.Error())
	}
	// Unknown workspace.
	_, err = f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob"}, &kongdb.Options{Workspace: uuidN(77)})
	e = kerr(t, err)
	if e.Code != kongdb.InvalidWorkspace || e.Error() != "[postgres] invalid workspace '"+uuidN(77)+"'" {
		t.Fatalf("workspace: %q", e.Error())
	}
	// Restricted: things.consumer has no on_delete.
	if _, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob"}, f.o); err != nil {
		t.Fatal(err)
	}
	if _, err := f.things.Insert(ctx, kongdb.Row{"id": uuidN(3), "consumer": map[string]any{"id": uuidN(1)}, "cache_key": "c"}, f.o); err != nil {
		t.Fatal(err)
	}
	_, err = f.consumers.Delete(ctx, kongdb.Row{"id": uuidN(1)}, f.o)
	e = kerr(t, err)
	if e.Code != kongdb.ForeignKeyViolation || e.Error() != "[postgres] an existing 'things' entity references this 'consumers' entity" {
		t.Fatalf("restricted: %q", e.Error())
	}
	// Cascade: keyauth credentials go with their consumer.
	if ok, err := f.things.Delete(ctx, kongdb.Row{"id": uuidN(3)}, f.o); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := f.keys.Insert(ctx, kongdb.Row{"id": uuidN(10), "key": "k", "consumer": map[string]any{"id": uuidN(1)}}, f.o); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.consumers.Delete(ctx, kongdb.Row{"id": uuidN(1)}, f.o); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if r, _ := f.keys.Select(ctx, kongdb.Row{"id": uuidN(10)}, f.o); r != nil {
		t.Fatal("cascade did not delete the credential")
	}
	// Deleting nothing: false, nil.
	if ok, err := f.consumers.Delete(ctx, kongdb.Row{"id": uuidN(1)}, f.o); ok || err != nil {
		t.Fatal(ok, err)
	}
}

func TestUpdateUpsertAndNotFound(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	if _, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob", "custom_id": "c1"}, f.o); err != nil {
		t.Fatal(err)
	}
	// Absent columns are left alone; Null clears.
	got, err := f.consumers.Update(ctx, kongdb.Row{"id": uuidN(1)}, kongdb.Row{"username": "robert", "custom_id": schema.Null}, f.o)
	if err != nil || got["username"] != "robert" || !schema.IsNull(got["custom_id"]) {
		t.Fatalf("update: %v %v", got, err)
	}
	got, err = f.consumers.UpdateByField(ctx, "username", "robert", kongdb.Row{"custom_id": "c2"}, f.o)
	if err != nil || got["custom_id"] != "c2" || got["username"] != "robert" {
		t.Fatalf("update_by: %v %v", got, err)
	}
	_, err = f.consumers.Update(ctx, kongdb.Row{"id": uuidN(2)}, kongdb.Row{"username": "x"}, f.o)
	if e := kerr(t, err); e.Code != kongdb.NotFound || e.Error() != `[postgres] could not find the entity with primary key '{id="`+uuidN(2)+`"}'` {
		t.Fatalf("not found: %q", e.Error())
	}
	_, err = f.consumers.UpdateByField(ctx, "username", "nobody", kongdb.Row{"custom_id": "x"}, f.o)
	if e := kerr(t, err); e.Error() != `[postgres] could not find the entity with '{username="nobody"}'` {
		t.Fatalf("not found by field: %q", e.Error())
	}
	// Upsert replaces the whole row (absent = NULL) and creates when missing.
	got, err = f.consumers.Upsert(ctx, kongdb.Row{"id": uuidN(1)}, kongdb.Row{"username": "bob"}, f.o)
	if err != nil || got["username"] != "bob" || !schema.IsNull(got["custom_id"]) {
		t.Fatalf("upsert: %v %v", got, err)
	}
	got, err = f.consumers.UpsertByField(ctx, "username", "carol", kongdb.Row{"id": uuidN(3), "custom_id": "c3"}, f.o)
	if err != nil || got["id"] != uuidN(3) {
		t.Fatalf("upsert_by create: %v %v", got, err)
	}
	got, err = f.consumers.UpsertByField(ctx, "username", "carol", kongdb.Row{"id": uuidN(4), "custom_id": "c4"}, f.o)
	if err != nil || got["id"] != uuidN(3) || got["custom_id"] != "c4" {
		t.Fatalf("upsert_by update keeps the id: %v %v", got, err)
	}
	// Statements are generated once and named as Kong names them.
	type lister interface{ Statements() map[string]string }
	stmts := f.consumers.(lister).Statements()
	for _, name := range []string{"insert", "upsert", "upsert_by_username"} {
		if _, ok := stmts[name]; !ok {
			t.Errorf("statement %s missing: %v", name, keys(stmts))
		}
	}
	for name, sql := range stmts {
		if strings.Contains(sql, "bob") || strings.Contains(sql, "carol") {
			t.Errorf("statement %s interpolates a value: %s", name, sql)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTTL(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	if _, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob"}, f.o); err != nil {
		t.Fatal(err)
	}
	ttl := 100
	o := &kongdb.Options{Workspace: f.ws, TTL: &ttl}
	now := float64(time_now())
	got, err := f.keys.Insert(ctx, kongdb.Row{"id": uuidN(10), "key": "live", "consumer": map[string]any{"id": uuidN(1)}, "created_at": now}, o)
	if err != nil {
		t.Fatal(err)
	}
	if r := got["ttl"].(float64); r < 98 || r > 100 {
		t.Fatalf("remaining ttl %v", r)
	}
	// An expired row is invisible to select, page and delete, but not with skip_ttl.
	if _, err := f.c.Query(ctx, `INSERT INTO keyauth_credentials (id, key, consumer_id, ws_id, ttl) VALUES ('`+uuidN(11)+`', 'dead', '`+uuidN(1)+`', '`+f.ws+`', now() - interval '1 second')`); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.keys.SelectByField(ctx, "key", "dead", f.o); r != nil {
		t.Fatal("expired row visible")
	}
	if r, _ := f.keys.SelectByField(ctx, "key", "dead", &kongdb.Options{Workspace: f.ws, SkipTTL: true}); r == nil {
		t.Fatal("skip_ttl missed the expired row")
	}
	rows, _, err := f.keys.Page(ctx, 10, "", f.o)
	if err != nil || len(rows) != 1 || rows[0]["key"] != "live" {
		t.Fatalf("page: %v %v", rows, err)
	}
	// No ttl: Null. Update with ttl = 0 clears the expiry; upsert without ttl clears it.
	got, err = f.keys.Update(ctx, kongdb.Row{"id": uuidN(10)}, kongdb.Row{"key": "live"}, f.o)
	if err != nil || got["ttl"].(float64) < 98 {
		t.Fatalf("update without ttl must keep expiry: %v %v", got, err)
	}
	zero := 0
	got, err = f.keys.Update(ctx, kongdb.Row{"id": uuidN(10)}, kongdb.Row{}, &kongdb.Options{Workspace: f.ws, TTL: &zero})
	if err != nil || !schema.IsNull(got["ttl"]) {
		t.Fatalf("ttl = 0: %v %v", got, err)
	}
	// Export returns the absolute expiry.
	got, err = f.keys.Insert(ctx, kongdb.Row{"id": uuidN(12), "key": "exp", "consumer": map[string]any{"id": uuidN(1)}, "created_at": now}, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err = f.keys.Select(ctx, kongdb.Row{"id": uuidN(12)}, &kongdb.Options{Workspace: f.ws, Export: true})
	// the expiry is 100 s after the insert, which ran between now and the
	// time read here (not a timing bound: a loaded machine stretches it)
	if later := float64(time_now()); err != nil || got["ttl"].(float64) < now+99 || got["ttl"].(float64) > later+101 {
		t.Fatalf("export ttl: %v (now %v) %v", got["ttl"], now, err)
	}
	n, err := f.c.CleanupExpired(ctx)
	if err != nil || n != 1 {
		t.Fatalf("cleanup: %d %v", n, err)
	}
}

func TestPagination(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	for i := 1; i <= 5; i++ {
		tags := []any{"odd"}
		if i%2 == 0 {
			tags = []any{"even"}
		}
		if _, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(i), "username": fmt.Sprint("u", i), "tags": tags}, f.o); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	offset := ""
	pages := 0
	for {
		rows, next, err := f.consumers.Page(ctx, 2, offset, f.o)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range rows {
			all = append(all, r["username"].(string))
		}
		if pages == 1 {
			// base64, no padding, of the JSON array of the last PK
			if want := postgres.EncodeOffset([]any{uuidN(2)}); next != want {
				t.Fatalf("token %q want %q", next, want)
			}
			if want := "WyI2YzFhMGE5ZS0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDIiXQ"; next != want {
				t.Fatalf("token %q want %q", next, want)
			}
		}
		if next == "" {
			break
		}
		offset = next
	}
	if pages != 3 || strings.Join(all, ",") != "u1,u2,u3,u4,u5" {
		t.Fatalf("pages %d rows %v", pages, all)
	}
	// An exact last page has no token.
	if _, next, _ := f.consumers.Page(ctx, 5, "", f.o); next != "" {
		t.Fatalf("token on the last page: %q", next)
	}
	_, _, err := f.consumers.Page(ctx, 2, "!!!", f.o)
	if e := kerr(t, err); e.Code != kongdb.InvalidOffset || e.Error() != "[postgres] '!!!' is not a valid offset: bad base64 encoding" {
		t.Fatalf("bad offset: %q", e.Error())
	}
	_, _, err = f.consumers.Page(ctx, 2, "bm90IGpzb24", f.o)
	if e := kerr(t, err); e.Error() != "[postgres] 'bm90IGpzb24' is not a valid offset: bad json encoding" {
		t.Fatalf("bad json offset: %q", e.Error())
	}
	rows, _, err := f.consumers.Page(ctx, 10, "", &kongdb.Options{Workspace: f.ws, Tags: []string{"even"}})
	if err != nil || len(rows) != 2 {
		t.Fatalf("tags: %v %v", rows, err)
	}
	rows, _, err = f.consumers.Page(ctx, 10, "", &kongdb.Options{Workspace: f.ws, Tags: []string{"even", "odd"}, TagsCond: "or"})
	if err != nil || len(rows) != 5 {
		t.Fatalf("tags or: %v %v", len(rows), err)
	}
	// page_for_<fk>
	for i := 20; i < 23; i++ {
		if _, err := f.keys.Insert(ctx, kongdb.Row{"id": uuidN(i), "key": fmt.Sprint("k", i), "consumer": map[string]any{"id": uuidN(1)}}, f.o); err != nil {
			t.Fatal(err)
		}
	}
	rows, next, err := f.keys.PageFor(ctx, "consumer", kongdb.Row{"id": uuidN(1)}, 2, "", f.o)
	if err != nil || len(rows) != 2 || next == "" {
		t.Fatalf("page_for: %v %q %v", rows, next, err)
	}
	rows, next, err = f.keys.PageFor(ctx, "consumer", kongdb.Row{"id": uuidN(1)}, 2, next, f.o)
	if err != nil || len(rows) != 1 || next != "" || rows[0]["key"] != "k22" {
		t.Fatalf("page_for next: %v %q %v", rows, next, err)
	}
	if rows, _, _ := f.keys.PageFor(ctx, "consumer", kongdb.Row{"id": uuidN(2)}, 2, "", f.o); len(rows) != 0 {
		t.Fatalf("page_for other consumer: %v", rows)
	}
}

func TestQueryAPI(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	r, err := f.c.Query(ctx, `CREATE TABLE q (id INT, name TEXT, data JSONB); INSERT INTO q VALUES (1, 'a', '{"x":[1,null]}'), (2, NULL, NULL); SELECT name, id, data FROM q ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if r.NumQueries() != 3 || r.Results[1].AffectedRows != 2 || !reflect.DeepEqual(r.Columns, []string{"name", "id", "data"}) {
		t.Fatalf("multi: %d %+v %v", r.NumQueries(), r.Results[1], r.Columns)
	}
	want := []map[string]any{
		{"name": "a", "id": float64(1), "data": map[string]any{"x": []any{float64(1), schema.Null}}},
		{"name": schema.Null, "id": float64(2), "data": schema.Null},
	}
	if !reflect.DeepEqual(r.Rows, want) {
		t.Fatalf("rows %#v", r.Rows)
	}
	// Like pgmoon: timestamps and UUIDs as text, uuid[] as an array.
	r, err = f.c.Query(ctx, `SELECT '2020-01-02 03:04:05+00'::timestamptz AS t, '`+uuidN(1)+`'::uuid AS u, ARRAY['`+uuidN(2)+`']::uuid[] AS us, 1.5::numeric AS n`)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Rows[0]; got["t"] != "2020-01-02 03:04:05+00" || got["u"] != uuidN(1) ||
		!reflect.DeepEqual(got["us"], []any{uuidN(2)}) || got["n"] != 1.5 {
		t.Fatalf("pgmoon types: %#v", got)
	}
	r, err = f.c.Query(ctx, "UPDATE q SET name = 'b'")
	if err != nil || r.AffectedRows != 2 || r.HasRows {
		t.Fatalf("update: %+v %v", r, err)
	}
	_, err = f.c.Query(ctx, "SELECT * FROM nope")
	var qe *postgres.QueryError
	if !errors.As(err, &qe) || qe.Error() != `ERROR: relation "nope" does not exist` || qe.SQLState() != "42P01" {
		t.Fatalf("error: %v", err)
	}
	if got := postgres.EscapeLiteral("it's"); got != "'it''s'" {
		t.Fatal(got)
	}
	if got := postgres.EscapeIdentifier(`we"ird`); got != `"we""ird"` {
		t.Fatal(got)
	}
	info := f.c.Infos()
	if info.Strategy != "PostgreSQL" || info.DBSchema != "public" || info.DBDesc != "database" || !strings.Contains(info.DBVer, ".") {
		t.Fatalf("infos %+v", info)
	}
}

// A select statement is built once per variant (ttl, export, workspace)
// and then only its arguments are bound: each variant, called again in
// another order and with other keys, still runs its own statement.
func TestSelectVariantsReused(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	if _, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob"}, f.o); err != nil {
		t.Fatal(err)
	}
	ttl := 100
	now := float64(time_now())
	if _, err := f.keys.Insert(ctx, kongdb.Row{"id": uuidN(10), "key": "live", "consumer": map[string]any{"id": uuidN(1)}, "created_at": now},
		&kongdb.Options{Workspace: f.ws, TTL: &ttl}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Query(ctx, `INSERT INTO keyauth_credentials (id, key, consumer_id, ws_id, ttl) VALUES ('`+uuidN(11)+`', 'dead', '`+uuidN(1)+`', '`+f.ws+`', now() - interval '1 second')`); err != nil {
		t.Fatal(err)
	}
	skip := &kongdb.Options{Workspace: f.ws, SkipTTL: true}
	export := &kongdb.Options{Workspace: f.ws, Export: true}
	global := &kongdb.Options{GlobalWorkspace: true}
	other := &kongdb.Options{Workspace: uuidN(99)}
	for round := 0; round < 3; round++ {
		for _, key := range []string{"live", "dead", "live"} {
			r, err := f.keys.SelectByField(ctx, "key", key, f.o)
			if err != nil || (r != nil) != (key == "live") || r != nil && r["id"] != uuidN(10) {
				t.Fatalf("round %d, %s: %v %v", round, key, r, err)
			}
			r, err = f.keys.SelectByField(ctx, "key", key, skip)
			if err != nil || r == nil || r["key"] != key {
				t.Fatalf("round %d, %s, skip_ttl: %v %v", round, key, r, err)
			}
			if r, err = f.keys.SelectByField(ctx, "key", key, other); err != nil || r != nil {
				t.Fatalf("round %d, %s, other workspace: %v %v", round, key, r, err)
			}
		}
		r, err := f.keys.Select(ctx, kongdb.Row{"id": uuidN(10)}, export)
		if err != nil || r == nil || r["ttl"].(float64) < now {
			t.Fatalf("round %d, export: %v %v", round, r, err)
		}
		r, err = f.keys.Select(ctx, kongdb.Row{"id": uuidN(10)}, f.o)
		if err != nil || r == nil || r["ttl"].(float64) > 100 {
			t.Fatalf("round %d, select: %v %v", round, r, err)
		}
		r, err = f.keys.Select(ctx, kongdb.Row{"id": uuidN(10)}, global)
		if err != nil || r == nil || r["key"] != "live" {
			t.Fatalf("round %d, global: %v %v", round, r, err)
		}
		if r, err = f.keys.Select(ctx, kongdb.Row{"id": uuidN(11)}, f.o); err != nil || r != nil {
			t.Fatalf("round %d, expired by pk: %v %v", round, r, err)
		}
	}
	stmts := f.keys.(interface{ Statements() map[string]string }).Statements()
	for _, name := range []string{"select_by_key", "select_by_key_skip_ttl", "select_for_export", "select", "select_global"} {
		if stmts[name] == "" {
			t.Errorf("no statement %s: %v", name, stmts)
		}
	}
}
