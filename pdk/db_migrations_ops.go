package pdk

// kong.db.migrations.operations.200_to_210 for plugin migrations (Kong's
// 2.0 -> 2.1 workspace migration helpers, required by the migrations of
// acl, basic-auth, hmac-auth, jwt, key-auth, oauth2 and third-party
// plugins): operations.postgres.up:ws_adjust_fields(entities) (SQL),
// operations.postgres.teardown:ws_adjust_data(connector, entities),
// operations.postgres.teardown:fixup_plugin_config(connector, name, fn),
// and ws_migrate_plugin(entities). The cassandra half is accepted and does
// nothing (Kong removed Cassandra; its migration keys are ignored). The
// SQL and data steps are kongdb/migrations' Go code.

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb/migrations"
)

func openMigrationOps(in *Instance) {
	for name, build := range map[string]func(*lua.LState) *lua.LTable{
		"200_to_210": newOps200To210,
		"212_to_213": newOps212To213,
		"280_to_300": newOpsFixupOnly,
		"331_to_332": newOpsFixupOnly,
	} {
		build := build
		in.L.PreloadModule("kong.db.migrations.operations."+name, func(L *lua.LState) int {
			L.Push(build(L))
			return 1
		})
	}
}

// opsModule assembles { postgres = { up, teardown }, cassandra = { up,
// teardown } } where the cassandra half has the same teardown names doing
// nothing.
func opsModule(L *lua.LState, up lua.LValue, teardown *lua.LTable) *lua.LTable {
	pg := L.NewTable()
	pg.RawSetString("up", up)
	pg.RawSetString("teardown", teardown)
	noop := L.NewFunction(func(L *lua.LState) int { L.Push(lua.LTrue); return 1 })
	cassTeardown := L.NewTable()
	teardown.ForEach(func(k, _ lua.LValue) { cassTeardown.RawSet(k, noop) })
	cass := L.NewTable()
	cass.RawSetString("up", up)
	cass.RawSetString("teardown", cassTeardown)
	mod := L.NewTable()
	mod.RawSetString("postgres", pg)
	mod.RawSetString("cassandra", cass)
	return mod
}

// newOpsFixupOnly is operations.280_to_300 and 331_to_332: a teardown
// fixup_plugin_config(connector, plugin_name, fixup_fn).
func newOpsFixupOnly(L *lua.LState) *lua.LTable {
	teardown := L.NewTable()
	teardown.RawSetString("fixup_plugin_config", L.NewFunction(fixupPluginConfig))
	return opsModule(L, L.NewTable(), teardown)
}

// newOps212To213 is operations.212_to_213: composite cache keys of 2.1
// rows ending in ":" get the default workspace id appended.
func newOps212To213(L *lua.LState) *lua.LTable {
	teardown := L.NewTable()
	teardown.RawSetString("ws_update_composite_cache_key", L.NewFunction(func(L *lua.LState) int {
		lc := checkConnector(L, 2)
		return pushResult(L, migrations.WsUpdateCompositeCacheKey(lc.ctx(), lc.c, luavm.CheckString(L, 3)))
	}))
	teardown.RawSetString("ws_adjust_data", L.NewFunction(func(L *lua.LState) int {
		lc := checkConnector(L, 2)
		for _, e := range wsEntities(L, 3) {
			if len(e.CacheKey) > 1 {
				if err := migrations.WsUpdateCompositeCacheKey(lc.ctx(), lc.c, e.Name); err != nil {
					return pushResult(L, err)
				}
			}
		}
		return pushResult(L, nil)
	}))
	return opsModule(L, lua.LString(""), teardown)
}

func newOps200To210(L *lua.LState) *lua.LTable {
	up := L.NewTable()
	up.RawSetString("ws_adjust_fields", L.NewFunction(func(L *lua.LState) int {
		ents := wsEntities(L, 2)
		L.Push(lua.LString(migrations.WsAdjustFields(ents)))
		return 1
	}))
	teardown := L.NewTable()
	teardown.RawSetString("ws_adjust_data", L.NewFunction(func(L *lua.LState) int {
		lc := checkConnector(L, 2)
		ents := wsEntities(L, 3)
		return pushResult(L, migrations.WsAdjustData(lc.ctx(), lc.c, ents))
	}))
	teardown.RawSetString("fixup_plugin_config", L.NewFunction(fixupPluginConfig))

	mod := opsModule(L, up, teardown)
	mod.RawSetString("ws_migrate_plugin", L.NewFunction(func(L *lua.LState) int {
		ents := wsEntities(L, 1)
		m := L.NewTable()
		pgm := L.NewTable()
		pgm.RawSetString("up", lua.LString(migrations.WsAdjustFields(ents)))
		pgm.RawSetString("teardown", L.NewFunction(func(L *lua.LState) int {
			lc := checkConnector(L, 1)
			return pushResult(L, migrations.WsAdjustData(lc.ctx(), lc.c, ents))
		}))
		m.RawSetString("postgres", pgm)
		L.Push(m)
		return 1
	}))
	return mod
}

// pushResult returns true, or nil and the error, as Kong's teardowns do.
func pushResult(L *lua.LState, err error) int {
	if err != nil {
		return bind.Fail(L, err.Error())
	}
	L.Push(lua.LTrue)
	return 1
}

// wsEntities reads { { name, primary_key, uniques, fks = { { name,
// reference, on_delete } }, cache_key, partitioned }, ... }.
func wsEntities(L *lua.LState, n int) []migrations.WsEntity {
	t := L.CheckTable(n)
	var out []migrations.WsEntity
	for i := 1; i <= t.Len(); i++ {
		et, ok := t.RawGetInt(i).(*lua.LTable)
		if !ok {
			L.ArgError(n, "entities must be an array of tables")
		}
		e := migrations.WsEntity{
			Name:        lua.LVAsString(et.RawGetString("name")),
			PrimaryKey:  lua.LVAsString(et.RawGetString("primary_key")),
			Uniques:     stringList(et.RawGetString("uniques")),
			CacheKey:    stringList(et.RawGetString("cache_key")),
			Partitioned: lua.LVAsBool(et.RawGetString("partitioned")),
		}
		if fks, ok := et.RawGetString("fks").(*lua.LTable); ok {
			for j := 1; j <= fks.Len(); j++ {
				ft, ok := fks.RawGetInt(j).(*lua.LTable)
				if !ok {
					continue
				}
				e.FKs = append(e.FKs, migrations.WsFK{
					Name:      lua.LVAsString(ft.RawGetString("name")),
					Reference: lua.LVAsString(ft.RawGetString("reference")),
					OnDelete:  lua.LVAsString(ft.RawGetString("on_delete")),
				})
			}
		}
		out = append(out, e)
	}
	return out
}

func stringList(v lua.LValue) []string {
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil
	}
	out := make([]string, 0, t.Len())
	for i := 1; i <= t.Len(); i++ {
		out = append(out, lua.LVAsString(t.RawGetInt(i)))
	}
	return out
}

// ops.postgres.teardown:fixup_plugin_config(connector, plugin_name, fixup_fn):
// fixup_fn(config) edits a plugin's config in place and returns true when
// it changed something; changed configs are written back.
func fixupPluginConfig(L *lua.LState) int {
	lc := checkConnector(L, 2)
	name := luavm.CheckString(L, 3)
	fn := L.CheckFunction(4)
	var callErr error
	err := migrations.FixupPluginConfig(lc.ctx(), lc.c, name, func(config map[string]any) bool {
		if callErr != nil {
			return false
		}
		lt := bind.FromValue(L, config, nil)
		if err := luavm.CallProtected(L, fn, 1, false, lt); err != nil {
			callErr = err
			return false
		}
		changed := lua.LVAsBool(L.Get(-1))
		L.Pop(1)
		if !changed {
			return false
		}
		v, err := bind.ToValue(L, lt, nil)
		if err != nil {
			callErr = err
			return false
		}
		nv, _ := v.(map[string]any)
		for k := range config {
			delete(config, k)
		}
		for k, x := range nv {
			config[k] = x
		}
		return true
	})
	if callErr != nil {
		err = callErr
	}
	return pushResult(L, err)
}
