package pdk

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/events"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
	"github.com/luahost/luahost/kongdb/schema"
)

// fakeClock is a settable clock for ttl tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cacheEnv is a node: one Root and n workers with kong.cache,
// kong.core_cache, kong.worker_events and, with a DB, kong.db and the
// automatic invalidation.
type cacheEnv struct {
	root  *Root
	ins   []*Instance
	sink  *logSink
	clock *fakeClock
	db    *kongdb.DB
}

type cacheEnvOpts struct {
	workers int
	db      bool
	props   []string
	cluster *events.ClusterEvents // kong.cluster_events and cache invalidations across nodes
	conn    kongdb.Connector      // with db: the store (default: a fresh memory one)
}

// trueRunner passes every Lua-referenced validator (the workers of these
// tests load no plugin schema).
type trueRunner struct{}

func (trueRunner) CallFunc(context.Context, *schema.Func, ...any) ([]any, error) {
	return []any{true}, nil
}

// seedKeyauth is the keyauth_credentials entity of seeds 000/001.
func seedKeyauth() map[string]any {
	return map[string]any{
		"name":         "keyauth_credentials",
		"endpoint_key": "key",
		"primary_key":  []any{"id"},
		"cache_key":    []any{"key"},
		"fields": []any{
			map[string]any{"id": map[string]any{"type": "string", "uuid": true, "auto": true}},
			map[string]any{"created_at": map[string]any{"type": "integer", "timestamp": true, "auto": true}},
			map[string]any{"consumer": map[string]any{"type": "foreign", "reference": "consumers", "default": schema.Null, "on_delete": "cascade"}},
			map[string]any{"key": map[string]any{"type": "string", "required": false, "unique": true, "auto": true}},
		},
	}
}

func newCacheEnv(t testing.TB, o cacheEnvOpts) *cacheEnv {
	t.Helper()
	c := conf.New()
	c.Set("mem_cache_size", "2m", "test") // 128m per cache is slow to allocate under -race
	for i := 0; i+1 < len(o.props); i += 2 {
		c.Set(o.props[i], o.props[i+1], "test")
	}
	if o.workers == 0 {
		o.workers = 1
	}
	env := &cacheEnv{sink: &logSink{}, clock: &fakeClock{t: time.Unix(1700000000, 0)}}
	env.root = &Root{Conf: c, Logger: slog.New(env.sink), WorkerCount: o.workers, PID: 4242, Now: env.clock.Now,
		ClusterEvents: o.cluster}
	if o.db {
		conn := o.conn
		if conn == nil {
			conn = memory.New()
		}
		db := kongdb.New(conn, kongdb.DBOptions{})
		s, err := schema.SchemaFromMap(seedKeyauth())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Register(s); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		env.db = db
		env.root.DB = db
		env.root.InstallInvalidation()
	}
	for i := 0; i < o.workers; i++ {
		L := lua.NewState()
		in := env.root.Open(L, i)
		in.Phase = "access"
		if o.db {
			in.Runner = trueRunner{}
			OpenDB(in)
		}
		OpenCache(in)
		OpenEvents(in)
		OpenClusterEvents(in)
		t.Cleanup(func() {
			CloseEvents(in)
			CloseCache(in)
			L.Close()
		})
		env.ins = append(env.ins, in)
	}
	return env
}

// do runs src in worker i (after draining its inbox, as the host does) and
// returns its results tostring'd, "nil" for nil.
func (e *cacheEnv) do(t testing.TB, i int, src string) []string {
	t.Helper()
	in := e.ins[i]
	Drain(in)
	vals, err := runErr(in, "test.lua", src)
	if err != nil {
		t.Fatalf("worker %d: %v", i, err)
	}
	out := make([]string, len(vals))
	for j, v := range vals {
		out[j] = in.L.ToStringMeta(v).String()
	}
	return out
}

// one runs src in worker i and returns its results joined by spaces.
func (e *cacheEnv) one(t testing.TB, i int, src string) string {
	t.Helper()
	return strings.Join(e.do(t, i, src), " ")
}

// fail runs src in worker i expecting a Lua error; returns its message.
func (e *cacheEnv) fail(t testing.TB, i int, src string) string {
	t.Helper()
	_, err := runErr(e.ins[i], "test.lua", src)
	if err == nil {
		t.Fatalf("expected an error from %q", src)
	}
	return luaErrMessage(err)
}

// eachStore runs body on the embedded store and on a PostgreSQL database
// of its own (skipped without a server, failed with CI=true).
func eachStore(t *testing.T, body func(t *testing.T, conn func(t *testing.T) kongdb.Connector)) {
	t.Run("off", func(t *testing.T) {
		body(t, func(*testing.T) kongdb.Connector { return memory.New() })
	})
	t.Run("postgres", func(t *testing.T) {
		body(t, func(t *testing.T) kongdb.Connector { return migrationstest.Bootstrapped(t) })
	})
}

func wantStr(t testing.TB, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}
