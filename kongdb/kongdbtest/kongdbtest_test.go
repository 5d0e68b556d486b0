package kongdbtest_test

import (
	"context"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/kongdb/memory"
)

func TestEachRunsEveryStrategy(t *testing.T) {
	built := 0
	kongdbtest.RegisterStrategy("second", func(t testing.TB) kongdb.Connector {
		built++
		return memory.New()
	})
	var ran []string
	kongdbtest.Each(t, func(t *testing.T, db *kongdb.DB) {
		ran = append(ran, t.Name())
		if db.DAO("consumers") == nil {
			t.Fatal("no core entities")
		}
		rec := &kongdbtest.Recorder{}
		db.SetEventHandler(rec)
		if _, err := db.DAO("consumers").Insert(context.Background(), map[string]any{"custom_id": "x"}, nil); err != nil {
			t.Fatal(err)
		}
		if ev := rec.Take(); len(ev) != 1 || ev[0].Operation != "create" {
			t.Fatalf("events %v", ev)
		}
	})
	want := []string{"TestEachRunsEveryStrategy/memory", "TestEachRunsEveryStrategy/second"}
	if len(ran) != 2 || ran[0] != want[0] || ran[1] != want[1] || built != 1 {
		t.Fatalf("ran %v, built %d", ran, built)
	}
}
