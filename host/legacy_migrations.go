package host

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk"
)

// Kong 0.x migrations (≤ 0.14, KONG-REFERENCE §9.2): a plugin without
// migrations/init.lua may have migrations/postgres.lua and cassandra.lua,
// each an ordered list of { name, up, down }, `up` and `down` a SQL string
// or a function(db, kong_config, dao_factory) returning an error. The
// PostgreSQL list becomes the plugin's subsystem, recorded in schema_meta
// like any other (Kong 0.x kept them in schema_migrations, which Kong 1.0
// no longer reads); cassandra.lua is only checked to load (luahost has no
// Cassandra: its migrations are skipped).

// loadLegacyMigrations reads migrations/postgres.lua into desc.Migrations
// and desc.MigrationDefs, one definition per entry:
// { postgres = { up = SQL | up_f = fn }, down = SQL | fn, legacy = true }.
func (w *Worker) loadLegacyMigrations(name string, desc *Plugin, build bool, fail func(string, error), failAt func(string, string, int, string)) {
	ns := "kong.plugins." + name + ".migrations."
	file := "kong/plugins/" + name + "/migrations/postgres.lua"
	if w.moduleExists(ns + "cassandra") {
		if _, err := w.requireIn(ns + "cassandra"); err != nil {
			fail("migrations", err)
		}
	}
	if !w.moduleExists(ns + "postgres") {
		return
	}
	v, err := w.requireIn(ns + "postgres")
	if err != nil {
		fail("migrations", err)
		return
	}
	list, ok := v.(*lua.LTable)
	if !ok {
		failAt("migrations", file, w.host.lastReturnLine(name, "migrations/postgres.lua"),
			fmt.Sprintf("0.x migrations of '%s' must be a table, got: %s", name, v.Type()))
		return
	}
	conv, err := pdk.ToValue(w.L, list, w.nameFunc(name+"/migrations/postgres.lua"))
	if err != nil {
		failAt("migrations", file, 0, err.Error())
		return
	}
	entries, _ := conv.([]any)
	if m, ok := conv.(map[string]any); ok && len(m) == 0 {
		entries = nil
	} else if !ok && entries == nil {
		failAt("migrations", file, 0, fmt.Sprintf("0.x migrations of '%s' must be an array of { name, up, down }", name))
		return
	}
	var names []string
	defs := map[string]map[string]any{}
	for i, e := range entries {
		m, _ := e.(map[string]any)
		mname, _ := m["name"].(string)
		if m == nil || mname == "" {
			failAt("migrations", file, 0, fmt.Sprintf("0.x migration #%d of '%s' has no name", i+1, name))
			continue
		}
		if _, dup := defs[mname]; dup {
			failAt("migrations", file, w.host.lineMentioning(name, "migrations/postgres.lua", mname),
				fmt.Sprintf("0.x migration '%s' of '%s' is listed twice", mname, name))
			continue
		}
		pg := map[string]any{}
		switch up := m["up"].(type) {
		case string:
			pg["up"] = up
		case *schema.Func:
			pg["up_f"] = up
		case nil:
		default:
			failAt("migrations", file, w.host.lineMentioning(name, "migrations/postgres.lua", mname),
				fmt.Sprintf("0.x migration '%s' of '%s': up must be a SQL string or a function", mname, name))
			continue
		}
		def := map[string]any{"postgres": pg, "legacy": true}
		switch down := m["down"].(type) {
		case string, *schema.Func:
			def["down"] = down
		case nil:
		default:
			failAt("migrations", file, w.host.lineMentioning(name, "migrations/postgres.lua", mname),
				fmt.Sprintf("0.x migration '%s' of '%s': down must be a SQL string or a function", mname, name))
			continue
		}
		names = append(names, mname)
		defs[mname] = def
	}
	if build {
		desc.Migrations, desc.MigrationDefs = names, defs
	}
}

// CallLegacyMigrationFunc runs a 0.x migration function, up or down, as
// Kong 0.x did: fn(db, kong_config, dao_factory), db being the connector
// (db:query(sql)); it fails when the function throws or returns an error.
// It implements migrations.LegacyRunner.
func (h *Host) CallLegacyMigrationFunc(ctx context.Context, fn *schema.Func, conn *postgres.Connector) error {
	return h.Pool.AcquireFunc(ctx, func(w *Worker) error {
		lf, ok := w.funcs[fn.Ref]
		if !ok {
			return fmt.Errorf("no Lua function %s", fn.Ref)
		}
		L := w.L
		saved := w.timeout
		w.timeout = MigrationTimeout
		defer func() { w.timeout = saved }()
		w.In.Phase = "init"
		cv := pdk.ConnectorValue(L, conn, func() context.Context { return ctx })
		var conf, daos lua.LValue = lua.LNil, lua.LNil
		if kong, ok := L.GetGlobal("kong").(*lua.LTable); ok {
			conf = kong.RawGetString("configuration")
		}
		if v, err := w.requireIn("kong.dao.legacy"); err == nil {
			daos = v
		}
		top := L.GetTop()
		if err := w.call(lf, 1, cv, conf, daos); err != nil {
			le := w.errorOf(pluginOfRef(fn.Ref), "migrations", err)
			return fmt.Errorf("%s", le.Error())
		}
		first := L.Get(top + 1)
		L.SetTop(top)
		if lua.LVAsBool(first) {
			return fmt.Errorf("%s", luaTostring(first))
		}
		return nil
	})
}
