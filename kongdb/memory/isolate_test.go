package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/schema"
)

// Writes inside Isolated are invisible to other readers until it returns
// (reads, updates, deletes, by key, by unique field and by page), visible
// to reads with its context, and a write from outside waits for the end.
func TestIsolated(t *testing.T) {
	s := &schema.Schema{Name: "things", PrimaryKey: []string{"id"}, Fields: []*schema.Field{
		uuidField(), {Name: "name", Type: schema.TypeString, Unique: true},
	}}
	db := newDB(t, s)
	d := db.DAO("things")
	a, err := d.Insert(ctx, M{"name": "a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ctx context.Context) string {
		rows, _, err := d.Page(ctx, 100, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := ""
		for _, r := range rows {
			out += r["name"].(string)
		}
		return out
	}
	conn := db.Connector().(*memory.Connector)
	outside := make(chan error, 1)
	boom := errors.New("boom")
	err = conn.Isolated(ctx, func(ictx context.Context) error {
		if _, err := d.Insert(ictx, M{"name": "b"}, nil); err != nil {
			return err
		}
		if _, err := d.Update(ictx, M{"id": a["id"]}, M{"name": "a2"}, nil); err != nil {
			return err
		}
		if got := names(ictx); len(got) != 3 {
			t.Errorf("inside: %q", got)
		}
		if got := names(ctx); got != "a" {
			t.Errorf("outside, during: %q", got)
		}
		if r, _ := d.SelectBy(ctx, "name", "a", nil); r == nil {
			t.Error("outside, by unique field: the old row is gone")
		}
		if r, _ := d.Select(ctx, M{"id": a["id"]}, nil); r == nil || r["name"] != "a" {
			t.Errorf("outside, by key: %v", r)
		}
		go func() {
			_, err := d.Insert(ctx, M{"name": "c"}, nil)
			outside <- err
		}()
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Isolated returned %v", err)
	}
	if err := <-outside; err != nil {
		t.Fatal(err)
	}
	if r, _ := d.SelectBy(ctx, "name", "a2", nil); r == nil {
		t.Error("after: the isolated update is not visible")
	}
	if got := names(ctx); len(got) != 4 {
		t.Errorf("after: %q", got)
	}
}
