package pdk

import (
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
	"github.com/luahost/luahost/pdk/lib/luajit"
)

// DefaultVersion is the Kong version luahost reports (kong.version,
// kong.meta) when Root.Version is empty.
const DefaultVersion = "3.9.1"

var (
	processNodeIDOnce sync.Once
	processNodeID     string
)

// NodeIDValue is kong.node.get_id(): Root.NodeID or one UUID per process.
func (r *Root) NodeIDValue() string {
	if r.NodeID != "" {
		return r.NodeID
	}
	processNodeIDOnce.Do(func() { processNodeID = uuid.NewString() })
	return processNodeID
}

// VersionString is kong.version.
func (r *Root) VersionString() string {
	if r.Version != "" {
		return r.Version
	}
	return DefaultVersion
}

// VersionNum is kong.version_num: major*1000000 + minor*1000 + patch.
func VersionNum(v string) int {
	parts := strings.SplitN(strings.SplitN(v, "-", 2)[0], ".", 3)
	n := 0
	for i, mul := range []int{1000000, 1000, 1} {
		if i < len(parts) {
			d, _ := strconv.Atoi(parts[i])
			n += d * mul
		}
	}
	return n
}

// openKong installs the global kong with kong.log (log.go), kong.version,
// kong.version_num, kong.configuration (configuration.go), kong.ctx
// (ctx.go), kong.node (node.go), kong.cluster (cluster.go), kong.vault
// (vault.go), kong.tracing (tracing.go), kong.telemetry (telemetry.go),
// kong.timer (kong_timer.go) and kong.table (new, clear, merge). Others (kong.db, kong.cache,
// kong.worker_events ...) are added by their files, kong.request and the
// other request-bound namespaces by pdk/request.
func openKong(in *Instance) {
	L := in.L
	in.ctxKeys = ctxKeys{shared: L.NewTable(), plugins: L.NewTable(), serialize: L.NewTable()}
	kong := L.NewTable()
	kong.RawSetString("version", lua.LString(in.Root.VersionString()))
	kong.RawSetString("version_num", lua.LNumber(VersionNum(in.Root.VersionString())))
	// kong.log: a plain field, the core facility outside a plugin and the
	// plugin's while one runs (SetPluginName, log.go)
	in.openKongLog()
	in.kong = kong
	kong.RawSetString("log", in.logs.core)
	kong.RawSetString("configuration", in.newKongConfiguration())
	kong.RawSetString("ctx", in.newKongCtx())
	// kong.plugin (kong/pdk/plugin.lua): the running plugin instance's id,
	// which the runloop keeps in ngx.ctx.plugin_id
	kong.RawSetString("plugin", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"get_id": func(L *lua.LState) int { L.Push(in.CurrentCtx().RawGetString("plugin_id")); return 1 },
	}))

	kong.RawSetString("node", in.newKongNode())
	kong.RawSetString("cluster", in.newKongCluster())
	kong.RawSetString("vault", in.newKongVault())
	kong.RawSetString("tracing", in.newKongTracing())
	kong.RawSetString("telemetry", in.newKongTelemetry())
	kong.RawSetString("timer", in.newKongTimer())

	tbl := L.NewTable()
	L.SetFuncs(tbl, map[string]lua.LGFunction{"new": luajit.TableNew(in.budget), "clear": luajit.TableClear, "merge": tableMerge})
	kong.RawSetString("table", tbl)
	L.SetGlobal("kong", kong)
}

// tableMerge is kong.table.merge(t1, t2) (Kong's kong/tools/table.lua
// table_merge): a new table with t1's keys, then t2's over them, one level
// deep; a nil or false argument counts as empty, another non-table raises
// as pairs does.
func tableMerge(L *lua.LState) int {
	res := L.NewTable()
	for n := 1; n <= 2; n++ {
		v := L.Get(n)
		if !lua.LVAsBool(v) {
			continue
		}
		t, ok := v.(*lua.LTable)
		if !ok {
			bind.RaiseAtCaller(L, "bad argument #1 to 'pairs' (table expected, got "+v.Type().String()+")")
		}
		t.ForEach(func(k, v lua.LValue) { res.RawSet(k, v) })
	}
	L.Push(res)
	return 1
}
