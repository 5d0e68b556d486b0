package host

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb"
)

// The example plugin's entity end to end: rows written from Go are read by
// a handler through kong.db, and a handler's writes are seen from Go, with
// Kong's error codes.
func TestHandlerUsesPluginEntityThroughKongDB(t *testing.T) {
	c := testConf(t, "../plugins", "testdata/e2e")
	h := newTestHost(t, c)
	ctx := context.Background()
	db := h.Root.DB
	consumer, err := db.DAO("consumers").Insert(ctx, map[string]any{"username": "bob"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := db.DAO("token_credentials").Insert(ctx, map[string]any{
		"consumer": map[string]any{"id": consumer["id"]}, "key": "k-123"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = h.Pool.AcquireFunc(ctx, func(w *Worker) error {
		conf := w.L.NewTable()
		conf.RawSetString("key", lua.LString("k-123"))
		if err := w.RunPhase("token-lookup", "access", conf); err != nil {
			return err
		}
		if got := w.L.GetField(w.In.Ctx, "consumer_id"); got.String() != consumer["id"] {
			t.Errorf("handler saw consumer %v, want %v", got, consumer["id"])
		}
		if got := w.L.GetField(w.In.Ctx, "cache_key").String(); got[:len("token_credentials:k-123:::::")] != "token_credentials:k-123:::::" {
			t.Errorf("cache key %q", got)
		}
		if err := w.RunPhase("token-lookup", "log", conf); err != nil {
			return err
		}
		if got := w.L.GetField(w.In.Ctx, "dup_code"); got != lua.LNumber(kongdb.UniqueViolation) {
			t.Errorf("duplicate insert from Lua: err_t.code = %v", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	row, err := db.DAO("token_credentials").Select(ctx, map[string]any{"id": cred["id"]}, nil)
	if err != nil || row == nil || row["label"] != "seen" {
		t.Fatalf("update from the handler not stored: %v %v", row, err)
	}
}
