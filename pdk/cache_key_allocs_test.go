package pdk

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestCacheKeyL1HitAllocs pins an auth plugin's lookup on a warm cache,
// dao:cache_key(token) then kong.cache:get hitting L1 (token-auth's
// access): no allocation (the key built in the state's buffer and
// interned, the L1 entry's value pushed as it is).
func TestCacheKeyL1HitAllocs(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{db: true})
	in := env.ins[0]
	env.do(t, 0, `
local function load(tok) return { key = tok } end
function lookup(tok)
  local k = kong.db.keyauth_credentials:cache_key(tok)
  local v, err, hit = kong.cache:get(k, nil, load, tok)
  return k, v.key, hit
end`)
	f := in.L.GetGlobal("lookup")
	tok := lua.LValue(lua.LString("tok-1"))
	call := func() {
		if err := in.L.CallByParam(lua.P{Fn: f, NRet: 3, Protect: true}, tok); err != nil {
			t.Fatal(err)
		}
	}
	call() // load it
	in.L.Pop(3)
	call()
	k, key, hit := in.L.Get(-3).String(), in.L.Get(-2).String(), in.L.Get(-1)
	in.L.Pop(3)
	if key != "tok-1" || hit != lua.LNumber(1) {
		t.Fatalf("warm lookup: key %q hit %v", key, hit)
	}
	if want, err := env.db.DAO("keyauth_credentials").CacheKey(context.Background(), "tok-1"); err != nil || k != want {
		t.Fatalf("cache_key = %q, want %q (%v)", k, want, err)
	}
	n := testing.AllocsPerRun(100, func() { call(); in.L.Pop(3) })
	if n > 0 {
		t.Errorf("cache_key and an L1 hit: %v allocations", n)
	}
}

// TestCacheKeyInterned: dao:cache_key(string) answers the DAO's key for
// any number of distinct keys (the interned ones are dropped when
// maxInternedKeys is reached) and for explicit segments.
func TestCacheKeyInterned(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{db: true})
	in := env.ins[0]
	dao := env.db.DAO("keyauth_credentials")
	for i := 0; i < 2*maxInternedKeys+10; i++ {
		tok := fmt.Sprintf("t%d", i%(maxInternedKeys+7))
		got := env.one(t, 0, `return kong.db.keyauth_credentials:cache_key(`+strconv.Quote(tok)+`, "a", nil, 3)`)
		want, err := dao.CacheKey(context.Background(), tok, "a", nil, 3)
		if err != nil || got != want {
			t.Fatalf("cache_key(%q) = %q, want %q (%v)", tok, got, want, err)
		}
	}
	if n := len(in.db.cacheKeys); n > maxInternedKeys {
		t.Errorf("%d keys interned", n)
	}
}
