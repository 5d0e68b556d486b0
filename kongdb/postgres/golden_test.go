package postgres_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

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
	// created_at now: with ttl 10 the row lives 10 s from it (created_at 1
	// made it expired at once, and every call below found nothing).
	row := kongdb.Row{"id": uuidN(2), "key": "k", "consumer": map[string]any{"id": uuidN(1)}, "created_at": float64(time.Now().Unix()), "tags": []any{}}
	if _, err := f.keys.Insert(ctx, row, o); err != nil {
		t.Fatal(err)
	}
	// Every statement runs once, so that it is prepared and recorded; each
	// must succeed, or the golden file would record a statement that fails.
	ok := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := f.keys.Select(ctx, kongdb.Row{"id": uuidN(2)}, f.o)
	ok("select", err)
	_, err = f.keys.SelectByField(ctx, "key", "k", f.o)
	ok("select_by_key", err)
	_, err = f.keys.SelectByField(ctx, "key", "k", &kongdb.Options{GlobalWorkspace: true, SkipTTL: true})
	ok("select_by_key global", err)
	_, err = f.keys.Update(ctx, kongdb.Row{"id": uuidN(2)}, row, o)
	ok("update", err)
	_, err = f.keys.Upsert(ctx, kongdb.Row{"id": uuidN(2)}, row, f.o)
	ok("upsert", err)
	_, err = f.keys.UpsertByField(ctx, "key", "k", row, f.o)
	ok("upsert_by_key", err)
	_, _, err = f.keys.Page(ctx, 1, "", f.o)
	ok("page", err)
	_, _, err = f.keys.Page(ctx, 1, postgres.EncodeOffset([]any{uuidN(0)}), f.o)
	ok("page next", err)
	_, _, err = f.keys.PageFor(ctx, "consumer", kongdb.Row{"id": uuidN(1)}, 1, "", f.o)
	ok("page_for_consumer", err)
	_, _, err = f.keys.Page(ctx, 1, "", &kongdb.Options{Workspace: f.ws, Tags: []string{"a"}})
	ok("page by tags", err)
	_, err = f.keys.Delete(ctx, kongdb.Row{"id": uuidN(2)}, f.o)
	ok("delete", err)
	_, err = f.keys.DeleteByField(ctx, "key", "k", f.o)
	ok("delete_by_key", err)

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
