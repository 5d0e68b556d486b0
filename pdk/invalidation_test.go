package pdk

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/events"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
	"github.com/luahost/luahost/kongdb/schema"
)

// seedHandlerLua is the handler pattern of seed 001 (caching custom
// entities), with a query counter.
const seedHandlerLua = `
queries = 0
local function load_credential(key)
  queries = queries + 1
  local credential, err = kong.db.keyauth_credentials:select_by_key(key)
  if not credential then
    return nil, err
  end
  return credential
end
function lookup(key)
  local credential_cache_key = kong.db.keyauth_credentials:cache_key(key)
  local credential, err, hit = kong.cache:get(credential_cache_key, nil, load_credential, key)
  if err then return "err:" .. err end
  if not credential then return "none " .. hit .. " q" .. queries end
  return credential.key .. "/" .. (credential.consumer and credential.consumer.id or "-") .. " " .. hit .. " q" .. queries
end
`

func goCtx() context.Context { return schema.WithFuncRunner(context.Background(), trueRunner{}) }

func TestSeedCachingCustomEntities(t *testing.T) {
	eachStore(t, testSeedCachingCustomEntities)
}

func testSeedCachingCustomEntities(t *testing.T, conn func(*testing.T) kongdb.Connector) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2, db: true, conn: conn(t)})
	for i := range env.ins {
		env.do(t, i, seedHandlerLua)
	}
	ctx := goCtx()
	bob, err := env.db.DAO("consumers").Insert(ctx, kongdb.Row{"username": "bob"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := env.db.DAO("consumers").Insert(ctx, kongdb.Row{"username": "alice"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	bobID, aliceID := bob["id"].(string), alice["id"].(string)
	env.do(t, 0, `kong.db.keyauth_credentials:insert({ key = "k1", consumer = { id = "`+bobID+`" } })`)

	// First get reaches the store, later ones do not (L1, then L2 in the
	// other worker).
	wantStr(t, "first", env.one(t, 0, `return lookup("k1")`), "k1/"+bobID+" 3 q1")
	wantStr(t, "second", env.one(t, 0, `return lookup("k1")`), "k1/"+bobID+" 1 q1")
	wantStr(t, "other worker", env.one(t, 1, `return lookup("k1")`), "k1/"+bobID+" 2 q0")
	wantStr(t, "other worker L1", env.one(t, 1, `return lookup("k1")`), "k1/"+bobID+" 1 q0")

	// An update through the DAO (Go, as the Admin API) evicts the key in
	// L2 and in every worker's L1: the next get sees the change.
	ka := env.db.DAO("keyauth_credentials")
	if _, err := ka.UpdateBy(ctx, "key", "k1", kongdb.Row{"consumer": map[string]any{"id": aliceID}}, nil); err != nil {
		t.Fatal(err)
	}
	wantStr(t, "after update w1", env.one(t, 1, `return lookup("k1")`), "k1/"+aliceID+" 3 q1")
	wantStr(t, "after update w0", env.one(t, 0, `return lookup("k1")`), "k1/"+aliceID+" 2 q1")

	// An update from Lua that changes the cache key evicts the old and the
	// new key.
	env.do(t, 0, `lookup("k2")`) // a cached miss for k2
	wantStr(t, "k2 miss cached", env.one(t, 0, `return lookup("k2")`), "none 1 q2")
	env.do(t, 1, `assert(kong.db.keyauth_credentials:update_by_key("k1", { key = "k2" }))`)
	wantStr(t, "old key gone", env.one(t, 0, `return lookup("k1")`), "none 3 q3")
	wantStr(t, "new key found", env.one(t, 0, `return lookup("k2")`), "k2/"+aliceID+" 3 q4")

	// A cached miss is evicted when the entity is created.
	wantStr(t, "miss", env.one(t, 1, `return lookup("k3")`), "none 3 q2")
	wantStr(t, "miss cached", env.one(t, 1, `return lookup("k3")`), "none 1 q2")
	if _, err := ka.Insert(ctx, kongdb.Row{"key": "k3", "consumer": map[string]any{"id": bobID}}, nil); err != nil {
		t.Fatal(err)
	}
	wantStr(t, "created", env.one(t, 1, `return lookup("k3")`), "k3/"+bobID+" 3 q3")

	// A delete evicts it again.
	if _, err := ka.DeleteBy(ctx, "key", "k3", nil); err != nil {
		t.Fatal(err)
	}
	wantStr(t, "deleted", env.one(t, 1, `return lookup("k3")`), "none 3 q4")
	wantStr(t, "deleted w0", env.one(t, 0, `return lookup("k3")`), "none 2 q4")

	// Deleting the consumer cascades to its credentials, each with its own
	// delete event.
	env.do(t, 0, `assert(kong.db.consumers:delete({ id = "`+aliceID+`" }))`)
	wantStr(t, "cascade", env.one(t, 1, `return lookup("k2")`), "none 3 q5")
}

// The manual invalidation of seed 001: a callback registered in
// init_worker on "crud"/"consumers" invalidating the plugin's own keys.
func TestSeedManualInvalidation(t *testing.T) {
	eachStore(t, testSeedManualInvalidation)
}

func testSeedManualInvalidation(t *testing.T, conn func(*testing.T) kongdb.Connector) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2, db: true, conn: conn(t)})
	for i := range env.ins {
		env.do(t, i, `
handled, updates = 0, {}
kong.worker_events.register(function(data)
  handled = handled + 1
  if data.operation == "delete" then
    local cache_key = data.entity.id
    kong.cache:invalidate("prefix:" .. cache_key)
  end
end, "crud", "consumers")
kong.worker_events.register(function(data)
  updates[#updates + 1] = data.operation .. " " .. data.old_entity.username .. "->" .. data.entity.username ..
    " " .. data.schema.name
end, "crud", "consumers:update")
function cached(id)
  local v, err, hit = kong.cache:get("prefix:" .. id, nil, function() return { id = id } end)
  return (v and v.id or "nil") .. " " .. hit
end`)
	}
	// A write from Lua runs the callbacks of the writing worker before the
	// DAO call returns.
	id := env.one(t, 0, `local c = assert(kong.db.consumers:insert({ username = "carol" })); return c.id`)
	wantStr(t, "create seen", env.one(t, 0, `return handled`), "1")
	wantStr(t, "not in other workers", env.one(t, 1, `return handled`), "0")
	env.do(t, 0, `cached("`+id+`")`)
	wantStr(t, "w1 warm", env.one(t, 1, `cached("`+id+`"); return cached("`+id+`")`), id+" 1")
	wantStr(t, "update", env.one(t, 0, `assert(kong.db.consumers:update({ id = "`+id+`" }, { username = "caroline" }))
return table.concat(updates, ",")`), "update carol->caroline consumers")
	env.do(t, 0, `assert(kong.db.consumers:delete({ id = "`+id+`" }))`)
	wantStr(t, "invalidated in w1", env.one(t, 1, `return cached("`+id+`")`), id+" 3")
	wantStr(t, "create, update, delete", env.one(t, 0, `return handled`), "3")

	// A write made outside the workers (the Admin API) is handled by one
	// worker, once.
	dave, err := env.db.DAO("consumers").Insert(goCtx(), kongdb.Row{"username": "dave"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	daveID := dave["id"].(string)
	env.do(t, 0, `cached("`+daveID+`")`)
	if _, err := env.db.DAO("consumers").Delete(goCtx(), kongdb.Row{"id": daveID}, nil); err != nil {
		t.Fatal(err)
	}
	for i := range env.ins {
		Drain(env.ins[i])
	}
	// create + delete of dave: two events, each handled by one worker.
	if got := env.one(t, 0, `return handled`) + "+" + env.one(t, 1, `return handled`); got != "5+0" && got != "4+1" && got != "3+2" {
		t.Fatalf("Admin API writes handled w0+w1 = %s, want 5 events in all", got)
	}
	wantStr(t, "Admin API delete invalidated", env.one(t, 0, `return cached("`+daveID+`")`), daveID+" 3")
}

func TestCrudEventsPickTheCacheAndReachGo(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 1, db: true})
	var mu sync.Mutex
	var seen []string
	env.root.Events.Register(func(ev events.Event) error {
		mu.Lock()
		defer mu.Unlock()
		ce := ev.Data.(*kongdb.CrudEvent)
		seen = append(seen, ev.Event+"="+ce.Operation)
		return nil
	}, "crud")
	env.do(t, 0, `daocrud = {}
kong.worker_events.register(function(data, op) daocrud[#daocrud + 1] = op .. ":" .. data.schema.name end, "dao:crud")`)
	ctx := goCtx()
	svc, err := env.db.DAO("services").Insert(ctx, kongdb.Row{"host": "example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := env.db.DAO("services").CacheKey(ctx, map[string]any(svc))
	if err != nil {
		t.Fatal(err)
	}
	env.do(t, 0, `kong.core_cache:get("`+key+`", nil, function() return "svc" end)
kong.cache:get("`+key+`", nil, function() return "not core" end)
kong.core_cache:get("router:version", nil, function() return "v1" end)`)
	if _, err := env.db.DAO("services").Update(ctx, kongdb.Row{"id": svc["id"]}, kongdb.Row{"port": float64(8080)}, nil); err != nil {
		t.Fatal(err)
	}
	wantStr(t, "core_cache", env.one(t, 0, `
local _, _, a = kong.core_cache:get("`+key+`", nil, function() return "svc2" end)
local _, _, b = kong.cache:get("`+key+`", nil, function() return "x" end)
local _, _, c = kong.core_cache:get("router:version", nil, function() return "v2" end)
return a, b, c`), "3 1 3")
	wantStr(t, "dao:crud", env.one(t, 0, `return table.concat(daocrud, ",")`), "create:services,update:services")
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != "services=create,services:create=create,services=update,services:update=update" {
		t.Fatalf("Go handlers saw %v", seen)
	}
}

// A "crud" callback may use kong.db itself (it runs after the write, outside
// any lock of the store).
func TestCrudCallbackCanUseTheDB(t *testing.T) {
	eachStore(t, func(t *testing.T, conn func(*testing.T) kongdb.Connector) {
		testCrudCallbackCanUseTheDB(t, conn)
	})
}

func testCrudCallbackCanUseTheDB(t *testing.T, conn func(*testing.T) kongdb.Connector) {
	env := newCacheEnv(t, cacheEnvOpts{db: true, conn: conn(t)})
	done := make(chan string, 1)
	go func() {
		vals, err := runErr(env.ins[0], "test.lua", `
local seen
kong.worker_events.register(function(data)
  local c = kong.db.consumers:select({ id = data.entity.id })
  local k = assert(kong.db.keyauth_credentials:insert({ key = "auto-" .. c.username, consumer = { id = c.id } }))
  seen = k.key
end, "crud", "consumers:create")
assert(kong.db.consumers:insert({ username = "erin" }))
return seen`)
		if err != nil {
			done <- err.Error()
			return
		}
		done <- vals[0].String()
	}()
	select {
	case got := <-done:
		wantStr(t, "nested write", got, "auto-erin")
	case <-time.After(10 * time.Second):
		t.Fatal("a crud callback using kong.db deadlocked")
	}
}

// An invalidation that cannot be computed (the cache key needs the default
// workspace, whose lookup fails) is reported to the DAO, which logs it,
// instead of being dropped.
func TestInvalidationFailureReported(t *testing.T) {
	conn := migrationstest.Bootstrapped(t)
	db := kongdb.New(conn, kongdb.DBOptions{})
	root := &Root{DB: db}
	h := root.CrudHandler()
	_ = conn.Close()
	ev := &kongdb.CrudEvent{Operation: "update", Schema: db.DAO("consumers").Schema,
		Entity: map[string]any{"id": "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11", "username": "alice"}}
	err := h.PostCrudEvent(context.Background(), ev)
	if err == nil || !strings.Contains(err.Error(), "[DB cache] failed to invalidate consumers") {
		t.Fatalf("PostCrudEvent: %v", err)
	}
}
