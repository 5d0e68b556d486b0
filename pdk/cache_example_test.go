package pdk_test

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/pdk"
)

// The wiring a host does for kong.cache, kong.core_cache,
// kong.worker_events and kong.cluster_events.
func Example_cacheWiring() {
	c := conf.New()
	c.Set("mem_cache_size", "4m", "example")
	root := &pdk.Root{Conf: c}
	// Optional, before the first worker: root.ClusterEvents (events.NewPostgres
	// or NewMemory), root.Cache / root.CoreCache, root.Events. Missing ones
	// are built from the configuration.

	// Per worker, right after Root.Open:
	L := lua.NewState()
	defer L.Close()
	in := root.Open(L, 0)
	pdk.OpenCache(in)
	pdk.OpenEvents(in)
	pdk.OpenClusterEvents(in)
	defer func() { pdk.CloseEvents(in); pdk.CloseCache(in) }() // when the worker goes away

	// Once Root.DB is set (next to InstallDBHooks): DAO writes invalidate
	// the caches and post "crud" events.
	root.InstallInvalidation()

	// Before every Lua entry into the worker (request, timer), and when
	// pdk.Inbox(in).Ready() fires while it is idle:
	pdk.Drain(in)

	if err := L.DoString(`
local v, err, hit = kong.cache:get("k", nil, function() return "loaded" end)
local _, _, hit2 = kong.cache:get("k")
print(v, err, hit, hit2)`); err != nil {
		panic(err)
	}
	fmt.Println(pdk.L1Len(in, false))
	// Output:
	// loaded	nil	3	1
	// 1
}
