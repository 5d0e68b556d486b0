// Package kongdbtest runs one test body against every storage strategy, in
// the spirit of Kong's helpers.each_strategy: memory always, and each
// strategy a package registered with RegisterStrategy (postgres).
package kongdbtest

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
)

// NewConnector builds a fresh, empty connector for one test (and registers
// its cleanup with t). It may t.Skip or t.Fatal when its server is absent.
type NewConnector func(t testing.TB) kongdb.Connector

var (
	mu         sync.Mutex
	strategies = map[string]NewConnector{}
)

// RegisterStrategy adds a strategy Each runs bodies against.
func RegisterStrategy(name string, fn NewConnector) {
	mu.Lock()
	defer mu.Unlock()
	strategies[name] = fn
}

// Memory returns a fresh memory connector.
func Memory(t testing.TB) kongdb.Connector { return memory.New() }

// Strategies lists the strategy names Each runs: "memory" first, then the
// registered ones, sorted.
func Strategies() []string {
	mu.Lock()
	defer mu.Unlock()
	names := []string{"memory"}
	var rest []string
	for n := range strategies {
		if n != "memory" {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

func constructor(name string) NewConnector {
	if name == "memory" {
		return Memory
	}
	mu.Lock()
	defer mu.Unlock()
	return strategies[name]
}

// Each runs body once per strategy, as a subtest named after it, with a
// new DB holding the core entities.
func Each(t *testing.T, body func(t *testing.T, db *kongdb.DB)) {
	EachWith(t, kongdb.DBOptions{}, body)
}

// EachWith is Each with DB options.
func EachWith(t *testing.T, opts kongdb.DBOptions, body func(t *testing.T, db *kongdb.DB)) {
	t.Helper()
	for _, name := range Strategies() {
		fn := constructor(name)
		t.Run(name, func(t *testing.T) {
			conn := fn(t)
			db := kongdb.New(conn, opts)
			t.Cleanup(func() { _ = db.Close() })
			body(t, db)
		})
	}
}

// Recorder is an EventHandler that keeps every CRUD event.
type Recorder struct {
	mu     sync.Mutex
	Events []*kongdb.CrudEvent
}

// PostCrudEvent records ev.
func (r *Recorder) PostCrudEvent(_ context.Context, ev *kongdb.CrudEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Events = append(r.Events, ev)
	return nil
}

// Take returns the events recorded so far and forgets them.
func (r *Recorder) Take() []*kongdb.CrudEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.Events
	r.Events = nil
	return ev
}
