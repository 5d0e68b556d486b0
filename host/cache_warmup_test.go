package host

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// db_cache_warmup_entities: a node starting on a database has the rows of
// the named entities in its cache before any request asks (Kong's
// kong/cache/warmup.lua); routes and unknown names are skipped, and the
// default list (services) leaves other entities out.
func TestCacheWarmup(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	ctx := context.Background()
	conn, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out bytes.Buffer
	_, m := migrator(t, "../plugins", conn, &out)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	node := func(warmup string) *Host {
		c := testConf(t, "../plugins")
		for k, v := range map[string]string{"database": "postgres", "pg_host": cfg.Host,
			"pg_port": fmt.Sprint(cfg.Port), "pg_user": cfg.User, "pg_database": cfg.Database} {
			c.Set(k, v, "test")
		}
		if warmup != "" {
			c.Set("db_cache_warmup_entities", warmup, "test")
		}
		return newTestHost(t, c)
	}
	a := node("")
	consumer, err := a.Root.DB.DAO("consumers").Insert(ctx, map[string]any{"username": "dora"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Root.DB.DAO("token_credentials").Insert(ctx, map[string]any{
		"consumer": map[string]any{"id": consumer["id"]}, "key": "warm-key"}, nil); err != nil {
		t.Fatal(err)
	}
	// probe answers what the cache holds without loading anything
	const probe = `
		local function cached(key)
			local _, _, v = kong.cache:probe(key)
			return v
		end
		local cred = cached(kong.db.token_credentials:cache_key("warm-key"))
		local consumer = cached(kong.db.consumers:cache_key(CONSUMER))
		return (cred and cred.key or "-") .. "," .. (consumer and consumer.username or "-")`
	eval := func(h *Host) string {
		var s string
		err := h.Pool.AcquireFunc(ctx, func(w *Worker) error {
			w.L.SetGlobal("CONSUMER", lua.LString(fmt.Sprint(consumer["id"])))
			fn, err := w.L.LoadString(probe)
			if err != nil {
				return err
			}
			if err := w.call(fn, 1); err != nil {
				return err
			}
			s = lua.LVAsString(w.L.Get(-1))
			w.L.Pop(1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := eval(node("routes, token_credentials, nope,consumers")); got != "warm-key,dora" {
		t.Errorf("warmed node: %q, want both rows cached", got)
	}
	if got := eval(node("")); got != "-,-" {
		t.Errorf("default warmup (services): %q, want nothing else cached", got)
	}
}
