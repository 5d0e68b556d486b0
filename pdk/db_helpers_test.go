package pdk

import (
	"context"
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
	"github.com/luahost/luahost/kongdb/schema"
)

// keyauthDef is the keyauth_credentials entity of the "Storing custom
// entities" guide (seed 000), as its daos.lua converts.
func keyauthDef() map[string]any {
	return map[string]any{
		"name":                  "keyauth_credentials",
		"endpoint_key":          "key",
		"primary_key":           []any{"id"},
		"cache_key":             []any{"key"},
		"generate_admin_api":    true,
		"admin_api_name":        "key-auths",
		"admin_api_nested_name": "key-auth",
		"fields": []any{
			map[string]any{"id": map[string]any{"type": "string", "uuid": true, "auto": true}},
			map[string]any{"created_at": map[string]any{"type": "integer", "timestamp": true, "auto": true}},
			map[string]any{"consumer": map[string]any{"type": "foreign", "reference": "consumers", "default": schema.Null, "on_delete": "cascade"}},
			map[string]any{"key": map[string]any{"type": "string", "required": false, "unique": true, "auto": true}},
		},
	}
}

// groupsDef is an entity with a composite cache_key, a ttl and a custom DAO
// module (dbtest.groups_dao, defined by the test in package.preload).
func groupsDef() map[string]any {
	return map[string]any{
		"name":          "dbtest_groups",
		"primary_key":   []any{"id"},
		"cache_key":     []any{"consumer", "group"},
		"workspaceable": true,
		"ttl":           true,
		"dao":           "dbtest.groups_dao",
		"fields": []any{
			map[string]any{"id": map[string]any{"type": "string", "uuid": true, "auto": true}},
			map[string]any{"created_at": map[string]any{"type": "integer", "timestamp": true, "auto": true}},
			map[string]any{"consumer": map[string]any{"type": "foreign", "reference": "consumers", "required": true, "on_delete": "cascade"}},
			map[string]any{"group": map[string]any{"type": "string", "required": true}},
			map[string]any{"tags": map[string]any{"type": "set", "elements": map[string]any{"type": "string"}}},
		},
	}
}

// newDBState returns a worker instance with kong.db over a fresh memory DB
// holding the core entities, keyauth_credentials and dbtest_groups.
func newDBState(t testing.TB) (*Instance, *kongdb.DB) {
	t.Helper()
	return newDBStateOn(t, memory.New())
}

// newDBStateOn is newDBState over the given storage.
func newDBStateOn(t testing.TB, conn kongdb.Connector) (*Instance, *kongdb.DB) {
	t.Helper()
	db := kongdb.New(conn, kongdb.DBOptions{})
	for _, def := range []map[string]any{keyauthDef(), groupsDef()} {
		s, err := schema.SchemaFromMap(def)
		if err != nil {
			t.Fatal(err)
		}
		s.Origin = "plugin dbtest, daos.lua"
		if _, err := db.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	in, _ := newShimState(t)
	in.Root.DB = db
	OpenDB(in)
	doLua(t, in, `package.preload["dbtest.groups_dao"] = function() return {} end`)
	return in, db
}

// strs runs src and returns every result tostring'd (nil as "nil").
func results(t testing.TB, in *Instance, src string) []string {
	t.Helper()
	vals := run(t, in, "test.lua", src)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = in.L.ToStringMeta(v).String()
	}
	return out
}

// eachStrategy runs body on the embedded store ("off") and on a
// PostgreSQL database of its own (skipped without a server unless
// CI=true).
func eachStrategy(t *testing.T, body func(t *testing.T, in *Instance, db *kongdb.DB)) {
	t.Run("off", func(t *testing.T) {
		in, db := newDBState(t)
		body(t, in, db)
	})
	t.Run("postgres", func(t *testing.T) {
		in, db := newDBStateOn(t, migrationstest.Bootstrapped(t))
		body(t, in, db)
	})
}

// wantResults runs src and compares its results, tostring'd, with want;
// "[off]" in want reads "[postgres]" on PostgreSQL.
func wantResults(t testing.TB, in *Instance, src string, want ...string) {
	t.Helper()
	if in.db != nil && in.db.db != nil && in.db.db.Strategy() != "off" {
		for i, w := range want {
			want[i] = strings.ReplaceAll(w, "[off]", "["+in.db.db.Strategy()+"]")
		}
	}
	got := results(t, in, src)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s\n got: %q\nwant: %q", src, got, want)
	}
}

// lua runs src and fails on error.
func doLua(t testing.TB, in *Instance, src string) {
	t.Helper()
	run(t, in, "test.lua", src)
}

// insertConsumer inserts a consumer from Go and returns its id.
func insertConsumer(t testing.TB, db *kongdb.DB, username string) string {
	t.Helper()
	ctx := schema.WithFuncRunner(context.Background(), builtinRunner{})
	row, err := db.DAO("consumers").Insert(ctx, map[string]any{"username": username}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return row["id"].(string)
}

// builtinRunner runs the typedef validators ("builtin:<name>") for the
// Go calls of these tests.
type builtinRunner struct{}

func (builtinRunner) CallFunc(_ context.Context, fn *schema.Func, args ...any) ([]any, error) {
	if v := schema.BuiltinValidatorFor(fn); v != nil && len(args) > 0 {
		if ok, msg := v(args[0]); !ok {
			return []any{nil, msg}, nil
		}
		return []any{true}, nil
	}
	return nil, errors.New("no Lua function " + fn.Ref)
}

var _ = lua.LNil
