package kongdb_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/schema"
)

type M = map[string]any

// passRunner stands in for the host's FuncRunner: every Lua validator
// (and builtin typedef validator, until the schema engine runs those
// itself) passes.
type passRunner struct{}

func (passRunner) CallFunc(_ context.Context, fn *schema.Func, args ...any) ([]any, error) {
	return []any{true}, nil
}

var ctx = schema.WithFuncRunner(context.Background(), passRunner{})

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// wantErr checks err is a Kong error with code c and message msg.
func wantErr(t testing.TB, err error, c kongdb.Code, msg string) *kongdb.Error {
	t.Helper()
	e, ok := kongdb.AsError(err)
	if !ok {
		t.Fatalf("want %s %q, got %v (%T)", kongdb.CodeNames[c], msg, err, err)
	}
	if e.Code != c || e.Error() != msg {
		t.Fatalf("want %s %q\n got %s %q", kongdb.CodeNames[c], msg, kongdb.CodeNames[e.Code], e.Error())
	}
	return e
}

func wantArgErr(t testing.TB, err error, msg string) {
	t.Helper()
	var ae *kongdb.ArgError
	if !errors.As(err, &ae) || ae.Msg != msg {
		t.Fatalf("want ArgError %q, got %v (%T)", msg, err, err)
	}
}

func eq(t testing.TB, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}

// memDB returns a DB on a fresh memory connector (for memory-only tests).
func memDB(t testing.TB) (*kongdb.DB, *memory.Connector) {
	c := memory.New()
	return kongdb.New(c, kongdb.DBOptions{}), c
}

// keyauth is a plugin-entity schema like key-auth's keyauth_credentials:
// ttl, a unique key, a foreign consumer with on_delete cascade, cache_key.
func keyauth() *schema.Schema {
	return &schema.Schema{
		Name: "keyauth_credentials", PrimaryKey: []string{"id"}, CacheKey: []string{"key"},
		EndpointKey: "key", Workspaceable: true, TTL: true, DBExport: true, GenerateAdminAPI: true,
		Fields: []*schema.Field{
			{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
			{Name: "created_at", Type: schema.TypeInteger, Timestamp: true, Auto: true},
			{Name: "consumer", Type: schema.TypeForeign, Reference: "consumers", Required: true, RequiredSet: true, OnDelete: "cascade"},
			{Name: "key", Type: schema.TypeString, Required: true, RequiredSet: true, Unique: true, Auto: true},
			{Name: "tags", Type: schema.TypeSet, Elements: &schema.Field{Type: schema.TypeString}},
		},
	}
}

// acls is a composite cache_key entity (consumer, group).
func acls() *schema.Schema {
	return &schema.Schema{
		Name: "acls", PrimaryKey: []string{"id"}, CacheKey: []string{"consumer", "group"},
		Workspaceable: true, DBExport: true, GenerateAdminAPI: true,
		Fields: []*schema.Field{
			{Name: "id", Type: schema.TypeString, UUID: true, Auto: true},
			{Name: "created_at", Type: schema.TypeInteger, Timestamp: true, Auto: true},
			{Name: "consumer", Type: schema.TypeForeign, Reference: "consumers", Required: true, RequiredSet: true, OnDelete: "cascade"},
			{Name: "group", Type: schema.TypeString, Required: true, RequiredSet: true},
			{Name: "tags", Type: schema.TypeSet, Elements: &schema.Field{Type: schema.TypeString}},
		},
	}
}

func each(t *testing.T, body func(t *testing.T, db *kongdb.DB)) { kongdbtest.Each(t, body) }

// keyAuthPlugin is a plugin config schema shaped like key-auth's.
func keyAuthPlugin() *schema.Schema {
	return &schema.Schema{Name: "key-auth", Fields: []*schema.Field{
		{Name: "config", Type: schema.TypeRecord, Required: true, Fields: []*schema.Field{
			{Name: "key_names", Type: schema.TypeArray, Required: true, RequiredSet: true,
				Elements: &schema.Field{Type: schema.TypeString}, Default: []any{"apikey"}, HasDefault: true},
			{Name: "hide_credentials", Type: schema.TypeBoolean, Required: true, RequiredSet: true, Default: false, HasDefault: true},
		}},
	}}
}

func withKeyAuth(t testing.TB, db *kongdb.DB) {
	t.Helper()
	if err := db.RegisterPluginSchema("key-auth", keyAuthPlugin()); err != nil {
		t.Fatal(err)
	}
}
