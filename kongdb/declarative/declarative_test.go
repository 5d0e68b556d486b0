package declarative_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/declarative"
	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
)

func init() { kongdbtest.RegisterStrategy("postgres", migrationstest.Connector) }

var ctx = context.Background()

// tokenCredentials is plugins/token-auth's daos.lua entity, in Go.
func tokenCredentials() *schema.Schema {
	return &schema.Schema{
		Name: "token_credentials", PrimaryKey: []string{"id"}, EndpointKey: "key",
		CacheKey: []string{"key"}, Workspaceable: true, TTL: true, DBExport: true,
		AdminAPIName: "token-auths", AdminAPINestedName: "token-auth",
		Fields: []*schema.Field{
			{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
			{Name: "created_at", Type: schema.TypeInteger, Timestamp: true, Auto: true},
			{Name: "consumer", Type: schema.TypeForeign, Reference: "consumers", Required: true, RequiredSet: true, OnDelete: "cascade"},
			{Name: "key", Type: schema.TypeString, Unique: true, Auto: true},
			{Name: "label", Type: schema.TypeString},
			{Name: "tags", Type: schema.TypeSet, Elements: &schema.Field{Type: schema.TypeString}},
		},
	}
}

func tokenAuthPlugin() *schema.Schema {
	return &schema.Schema{Name: "token-auth", Fields: []*schema.Field{
		{Name: "config", Type: schema.TypeRecord, Required: true, Fields: []*schema.Field{
			{Name: "header", Type: schema.TypeString, Required: true, RequiredSet: true, Default: "x-token", HasDefault: true},
			{Name: "hide", Type: schema.TypeBoolean, Required: true, RequiredSet: true, Default: false, HasDefault: true},
		}},
	}}
}

// each runs body on the memory store and PostgreSQL, with the token-auth
// plugin's schema and entity registered (its table created on PostgreSQL).
// The DB's clock is two days back, so a write that stamps "now" instead of
// keeping a timestamp shows.
func each(t *testing.T, body func(t *testing.T, db *kongdb.DB)) {
	past := time.Now().Add(-48 * time.Hour)
	kongdbtest.EachWith(t, kongdb.DBOptions{Now: func() time.Time { return past }}, func(t *testing.T, db *kongdb.DB) {
		withTokenAuth(t, db)
		body(t, db)
	})
}

func withTokenAuth(t *testing.T, db *kongdb.DB) { withTokenAuthTB(t, db) }

func withTokenAuthTB(t testing.TB, db *kongdb.DB) {
	t.Helper()
	s := tokenCredentials()
	if pg, ok := db.Connector().(*postgres.Connector); ok {
		if _, err := pg.Query(ctx, postgres.CreateTableSQL(s, db.Registry.Get)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Register(s); err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterPluginSchema("token-auth", tokenAuthPlugin()); err != nil {
		t.Fatal(err)
	}
}

const kongYML = `_format_version: "3.0"
_transform: true
services:
- name: example
  url: http://127.0.0.1:9999/base
  tags: [demo]
  routes:
  - name: r1
    paths: [/r1]
    plugins:
    - name: token-auth
      config:
        header: x-api-token
  plugins:
  - name: token-auth
routes:
- name: r2
  service: example
  hosts: [example.test]
consumers:
- username: alice
  token_credentials:
  - key: alice-secret
    label: laptop
- username: bob
  custom_id: b-1
token_credentials:
- key: bob-secret
  consumer: bob
plugins:
- name: token-auth
  consumer: alice
  config:
    hide: true
`

func count(t *testing.T, db *kongdb.DB, name string) int {
	t.Helper()
	rows, _, err := db.DAO(name).Page(ctx, 1000, nil, map[string]any{"workspace": schema.Null})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// A kong.yml with services, routes, consumers, plugins and a plugin's own
// entity (nested under a consumer and at the top with a reference by
// name) loads with every relationship resolved.
func TestLoadResolvesNestingAndReferences(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		cfg, err := declarative.Load(ctx, db, strings.NewReader(kongYML), "kong.yml")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.FormatVersion != "3.0" || !cfg.Transform {
			t.Errorf("meta: %+v", cfg)
		}
		for name, want := range map[string]int{"services": 1, "routes": 2, "consumers": 2, "plugins": 3, "token_credentials": 2} {
			if got := count(t, db, name); got != want {
				t.Errorf("%s: %d rows, want %d", name, got, want)
			}
		}
		svc, err := db.DAO("services").SelectBy(ctx, "name", "example", nil)
		if err != nil || svc == nil {
			t.Fatal(svc, err)
		}
		if svc["host"] != "127.0.0.1" || svc["port"] != float64(9999) || svc["path"] != "/base" {
			t.Errorf("service: %v", svc)
		}
		for _, rn := range []string{"r1", "r2"} {
			r, _ := db.DAO("routes").SelectBy(ctx, "name", rn, nil)
			if r == nil || r["service"].(map[string]any)["id"] != svc["id"] {
				t.Errorf("route %s: %v", rn, r)
			}
		}
		alice, _ := db.DAO("consumers").SelectBy(ctx, "username", "alice", nil)
		bob, _ := db.DAO("consumers").SelectBy(ctx, "username", "bob", nil)
		for key, owner := range map[string]kongdb.Row{"alice-secret": alice, "bob-secret": bob} {
			c, err := db.DAO("token_credentials").SelectBy(ctx, "key", key, nil)
			if err != nil || c == nil || c["consumer"].(map[string]any)["id"] != owner["id"] {
				t.Errorf("credential %s: %v %v", key, c, err)
			}
		}
		// Kong DB-less derives the id from the service's name: the same
		// file gives the same ids.
		if svc["id"] != "fe8f4ab0-7ce6-5ba4-9e67-f5e9c1f1f35d" {
			t.Logf("service id %v", svc["id"])
		}
	})
}

// The second store of a round trip: a fresh database of the same kind.
func freshLike(t *testing.T, db *kongdb.DB) *kongdb.DB {
	t.Helper()
	var conn kongdb.Connector
	if _, ok := db.Connector().(*postgres.Connector); ok {
		conn = migrationstest.Connector(t)
	} else {
		conn = kongdbtest.Memory(t)
	}
	db2 := kongdb.New(conn, kongdb.DBOptions{})
	t.Cleanup(func() { _ = db2.Close() })
	withTokenAuth(t, db2)
	return db2
}

func export(t *testing.T, db *kongdb.DB) string {
	t.Helper()
	var b bytes.Buffer
	if err := declarative.Export(ctx, db, &b, declarative.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// db_export → db_import → db_export gives the same file, on each store:
// ids, timestamps, defaults, nulls and the credential's ttl survive.
func TestExportImportRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		if _, err := declarative.Load(ctx, db, strings.NewReader(kongYML), "kong.yml"); err != nil {
			t.Fatal(err)
		}
		// beyond Kong's DB-less mode: the store stays writable, and the
		// export has what was written since
		alice, _ := db.DAO("consumers").SelectBy(ctx, "username", "alice", nil)
		if _, err := db.DAO("token_credentials").Insert(ctx, map[string]any{
			"consumer": map[string]any{"id": alice["id"]}, "key": "temp"}, map[string]any{"ttl": float64(7 * 86400)}); err != nil {
			t.Fatal(err)
		}
		first := export(t, db)
		for _, want := range []string{"_format_version: \"3.0\"", "_transform: false", "key: temp", "ttl: ", "username: alice", "service: "} {
			if !strings.Contains(first, want) {
				t.Errorf("export lacks %q:\n%s", want, first)
			}
		}
		db2 := freshLike(t, db)
		cfg, err := declarative.Parse(ctx, db2, []byte(first), "kong.yml", declarative.ParseOptions{Partial: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Import(ctx, db2); err != nil {
			t.Fatal(err)
		}
		if second := export(t, db2); second != first {
			t.Errorf("round trip changed the file:\n--- first\n%s\n--- second\n%s", first, second)
		}
	})
}

// A file whose entities are all wrong in a different way: every error is
// listed with the entity, its path in the file and Kong's message, and
// nothing is written (what the store held stays).
func TestParseListsEveryErrorAndWritesNothing(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		if _, err := db.DAO("services").Insert(ctx, map[string]any{"name": "kept", "host": "kept.test"}, nil); err != nil {
			t.Fatal(err)
		}
		bad := `_format_version: "3.0"
unknown_thing: 1
services:
- name: s1
  host: s1.test
  port: "eighty"
  routes:
  - name: r1
    paths: [3]
- name: s1
  host: dup.test
- name: nohost
consumers:
- username: carol
  token_credentials:
  - label: 7
plugins:
- name: not-a-plugin
- name: token-auth
  consumer: nobody
`
		_, err := declarative.Load(ctx, db, strings.NewReader(bad), "kong.yml")
		var de *declarative.Error
		if !errors.As(err, &de) {
			t.Fatalf("error %T %v", err, err)
		}
		want := []string{
			"(top level): unknown_thing: unknown field",
			"services[1] (line 4): port: expected an integer",
			"services[1].routes[1] (line 8): paths.1: expected a string",
			"services[2] (line 10): uniqueness violation: 'services' entity with name set to 's1' already declared",
			"services[3] (line 12): host: required field missing",
			"consumers[1].token_credentials[1] (line 16): label: expected a string",
			"plugins[1] (line 18): name: plugin 'not-a-plugin' not enabled; add it to the 'plugins' configuration property",
			"plugins[2] (line 19): invalid reference 'consumer: nobody' (no such entry in 'consumers')",
		}
		listing := de.Listing()
		for _, w := range want {
			if !strings.Contains(listing, w) {
				t.Errorf("listing lacks %q:\n%s", w, listing)
			}
		}
		if len(de.Problems) != len(want) {
			t.Errorf("%d problems, want %d:\n%s", len(de.Problems), len(want), listing)
		}
		if !strings.HasPrefix(de.Error(), "declarative config is invalid: {") {
			t.Errorf("message: %s", de.Error())
		}
		if n := count(t, db, "services"); n != 1 {
			t.Errorf("%d services after a failed load, want the 1 kept", n)
		}
		if n := count(t, db, "consumers"); n != 0 {
			t.Errorf("%d consumers written", n)
		}
	})
}

// db_import is all or nothing: the second consumer's username is taken by
// a stored one, and the first consumer is not written either.
func TestImportAllOrNothing(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		if _, err := db.DAO("consumers").Insert(ctx, map[string]any{"username": "taken"}, nil); err != nil {
			t.Fatal(err)
		}
		cfg, err := declarative.Parse(ctx, db, []byte(`_format_version: "3.0"
consumers:
- username: new1
- username: taken
`), "kong.yml", declarative.ParseOptions{Partial: true})
		if err != nil {
			t.Fatal(err)
		}
		err = cfg.Import(ctx, db)
		var we *declarative.WriteError
		if !errors.As(err, &we) || we.Entry.Path != "consumers[2]" || !kongdb.IsCode(err, kongdb.UniqueViolation) {
			t.Fatalf("error: %v", err)
		}
		if !strings.Contains(err.Error(), "consumers[2] (line 4): ") {
			t.Errorf("message: %v", err)
		}
		if row, _ := db.DAO("consumers").SelectBy(ctx, "username", "new1", nil); row != nil {
			t.Errorf("new1 written: %v", row)
		}
		if n := count(t, db, "consumers"); n != 1 {
			t.Errorf("%d consumers", n)
		}
	})
}

// A 2.1 file is upgraded as Kong does on the fly: regex route paths get
// 3.0's "~" prefix, plain ones stay; a nested route naming another service
// than its parent is an invalid reference (Kong #7696).
func TestFormat21AndNestedReference(t *testing.T) {
	db := memDB(t)
	cfg, err := declarative.Load(ctx, db, strings.NewReader(`_format_version: "2.1"
services:
- name: s
  host: s.test
  routes:
  - name: r
    paths: [/plain/path, /api/v\d+]
`), "kong.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FormatVersion != "3.0" {
		t.Errorf("format %q", cfg.FormatVersion)
	}
	r, _ := db.DAO("routes").SelectBy(ctx, "name", "r", nil)
	paths, _ := r["paths"].([]any)
	if len(paths) != 2 || paths[0] != "/plain/path" || paths[1] != `~/api/v\d+` {
		t.Errorf("paths %v", paths)
	}
	_, err = declarative.Parse(ctx, db, []byte(`_format_version: "3.0"
services:
- name: s1
  host: h
  routes:
  - name: my-route-1
    paths: [/p]
    service:
      id: 769bdf51-16df-5476-9830-ef26800b5448
`), "kong.yml", declarative.ParseOptions{})
	var de *declarative.Error
	if !errors.As(err, &de) {
		t.Fatal(err)
	}
	want := `{"routes":{"my-route-1":["invalid reference 'service: {\"id\":\"769bdf51-16df-5476-9830-ef26800b5448\"}' (no such entry in 'services')"]}}`
	if got := jsonOf(t, de.Fields); got != want {
		t.Errorf("fields\n got %s\nwant %s", got, want)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// An entity whose schema says db_export = false (runtime data) is left out
// of db_export, and a replace keeps its rows.
func TestDBExportFalse(t *testing.T) {
	db := memDB(t)
	if _, err := db.Register(&schema.Schema{Name: "counters", PrimaryKey: []string{"id"}, DBExport: false,
		Fields: []*schema.Field{
			{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
			{Name: "hits", Type: schema.TypeInteger},
		}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DAO("counters").Insert(ctx, map[string]any{"hits": float64(3)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := declarative.Load(ctx, db, strings.NewReader("_format_version: \"3.0\"\nconsumers:\n- username: u\n"), "kong.yml"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "counters"); n != 1 {
		t.Errorf("replace removed %d counters", 1-n)
	}
	out := export(t, db)
	if strings.Contains(out, "counters") || strings.Contains(out, "hits") || !strings.Contains(out, "username: u") {
		t.Errorf("export:\n%s", out)
	}
}

// Strings YAML would read as something else ("123", "true", "null", "~",
// "3.0", a multi-line one) come back as the same strings.
func TestExportQuotesAmbiguousStrings(t *testing.T) {
	db := memDB(t)
	tricky := []string{"123", "true", "null", "~", "3.0", "line1\nline2", "- dash", "#hash", "a: b", "yes"}
	for i, s := range tricky {
		row := map[string]any{"username": s, "custom_id": fmt.Sprint(i)}
		if !strings.ContainsAny(s, "\n") {
			row["tags"] = []any{s}
		}
		if _, err := db.DAO("consumers").Insert(ctx, row, nil); err != nil {
			t.Fatal(err)
		}
	}
	out := export(t, db)
	db2 := memDB(t)
	if _, err := declarative.Load(ctx, db2, strings.NewReader(out), "kong.yml"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, s := range tricky {
		row, err := db2.DAO("consumers").SelectBy(ctx, "username", s, nil)
		if err != nil || row == nil {
			t.Errorf("username %q lost: %v", s, err)
			continue
		}
		if tags, _ := row["tags"].([]any); !strings.Contains(s, "\n") && (len(tags) != 1 || tags[0] != s) {
			t.Errorf("tags of %q: %v", s, row["tags"])
		}
	}
	if again := export(t, db2); again != out {
		t.Errorf("second export differs:\n%s\n---\n%s", out, again)
	}
}
