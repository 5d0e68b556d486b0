package pdk

import (
	lua "github.com/yuin/gopher-lua"
)

// clusterIDKey is Kong's CLUSTER_ID_PARAM_KEY: the parameters row, and
// the kong.core_cache key, of the cluster id.
const clusterIDKey = "cluster_id"

// newKongCluster is kong.cluster (Kong's kong/pdk/cluster.lua): get_id()
// reads the parameters row "cluster_id" through kong.core_cache, as Kong
// does, looking both up on the kong table at call time (a spec may replace
// them). The row is written by core's 013_220_to_230 migration; the
// embedded store (database = off) has none, and get_id answers nil as
// Kong's DB-less nodes do.
func (in *Instance) newKongCluster() *lua.LTable {
	L := in.L
	fetch := L.NewFunction(in.fetchClusterID)
	cluster := L.CreateTable(0, 1)
	cluster.RawSetString("get_id", L.NewFunction(func(L *lua.LState) int {
		cc := L.GetField(in.kong, "core_cache")
		top := L.GetTop()
		L.Push(L.GetField(cc, "get"))
		L.Push(cc)
		L.Push(lua.LString(clusterIDKey))
		L.Push(lua.LNil)
		L.Push(fetch)
		L.Call(4, 2)
		id, err := L.Get(top+1), L.Get(top+2)
		L.SetTop(top)
		if lua.LVAsBool(err) {
			L.Push(lua.LNil)
			L.Push(err)
			return 2
		}
		L.Push(id)
		return 1
	}))
	return cluster
}

// fetchClusterID is cluster.lua's fetch_cluster_id, the core_cache
// callback: kong.db.parameters:select({ key = "cluster_id" }) and its value.
func (in *Instance) fetchClusterID(L *lua.LState) int {
	dao := L.GetField(L.GetField(in.kong, "db"), "parameters")
	top := L.GetTop()
	pk := L.CreateTable(0, 1)
	pk.RawSetString("key", lua.LString(clusterIDKey))
	L.Push(L.GetField(dao, "select"))
	L.Push(dao)
	L.Push(pk)
	L.Call(2, 2)
	row, err := L.Get(top+1), L.Get(top+2)
	L.SetTop(top)
	if !lua.LVAsBool(row) {
		L.Push(lua.LNil)
		L.Push(err)
		return 2
	}
	L.Push(L.GetField(row, "value"))
	return 1
}
