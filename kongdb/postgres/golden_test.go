package postgres_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/postgres"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Fatalf("%s differs (run with -update to accept):\n%s", path, got)
	}
}

// The table key-auth's schema maps to, and the statements the strategy
// generates for it: what a reviewer compares with Kong's.
func TestGoldenKeyAuthSQL(t *testing.T) {
	cs := consumersSchema()
	ka := keyauthSchema(cs)
	golden(t, "keyauth_credentials.create.sql", postgres.CreateTableSQL(ka, nil))

	ctx := context.Background()
	f := setup(t)
	ttl := 10
	o := &kongdb.Options{Workspace: f.ws, TTL: &ttl}
	if _, err := f.consumers.Insert(ctx, kongdb.Row{"id": uuidN(1), "username": "bob"}, f.o); err != nil {
		t.Fatal(err)
	}
	row := kongdb.Row{"id": uuidN(2), "key": "k", "consumer": map[string]any{"id": uuidN(1)}, "created_at": float64(1), "tags": []any{}}
	if _, err := f.keys.Insert(ctx, row, o); err != nil {
		t.Fatal(err)
	}
	_, _ = f.keys.Select(ctx, kongdb.Row{"id": uuidN(2)}, f.o)
	_, _ = f.keys.SelectByField(ctx, "key", "k", f.o)
	_, _ = f.keys.SelectByField(ctx, "key", "k", &kongdb.Options{GlobalWorkspace: true, SkipTTL: true})
	_, _ = f.keys.Update(ctx, kongdb.Row{"id": uuidN(2)}, row, o)
	_, _ = f.keys.Upsert(ctx, kongdb.Row{"id": uuidN(2)}, row, f.o)
	_, _ = f.keys.UpsertByField(ctx, "key", "k", row, f.o)
	_, tok, _ := f.keys.Page(ctx, 1, "", f.o)
	_ = tok
	_, _, _ = f.keys.Page(ctx, 1, postgres.EncodeOffset([]any{uuidN(0)}), f.o)
	_, _, _ = f.keys.PageFor(ctx, "consumer", kongdb.Row{"id": uuidN(1)}, 1, "", f.o)
	_, _, _ = f.keys.Page(ctx, 1, "", &kongdb.Options{Workspace: f.ws, Tags: []string{"a"}})
	_, _ = f.keys.Delete(ctx, kongdb.Row{"id": uuidN(2)}, f.o)
	_, _ = f.keys.DeleteByField(ctx, "key", "k", f.o)

	stmts := f.keys.(interface{ Statements() map[string]string }).Statements()
	var names []string
	for n := range stmts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString("-- " + n + "\n" + stmts[n] + "\n\n")
	}
	golden(t, "keyauth_credentials.statements.sql", b.String())
}
