package host

import (
	"context"
	"fmt"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk"
)

// openConnector opens the storage named by the `database` property:
// "off" (the embedded memory store, the default) or "postgres".
func openConnector(ctx context.Context, h *Host) (kongdb.Connector, error) {
	switch db := h.Conf.Get("database"); db {
	case "off", "", "memory":
		return memory.New(), nil
	case "postgres":
		return postgres.Open(ctx, postgres.FromConf(h.Conf))
	default:
		return nil, fmt.Errorf("database has an invalid value: '%s' (postgres, off)", db)
	}
}

// buildDB registers every plugin's entities and config schema on db, in
// plugin load order (entities of a plugin in daos.lua order), as Kong's
// plugins:load_plugin_schemas does; every failure is reported.
func buildDB(db *kongdb.DB, plugins []*Plugin) []*LoadError {
	var errs []*LoadError
	for _, p := range plugins {
		for _, def := range p.EntityDefs {
			ename, _ := def["name"].(string)
			fail := func(err error) {
				errs = append(errs, &LoadError{Plugin: p.Name, Phase: "daos", File: "kong/plugins/" + p.Name + "/daos.lua",
					Msg: fmt.Sprintf("schema of custom plugin entity '%s.%s' is invalid: %s", p.Name, ename, err)})
			}
			s, err := schema.SchemaFromMap(def)
			if err != nil {
				fail(err)
				continue
			}
			if err := schema.CheckDefinition(s); err != nil {
				fail(err)
				continue
			}
			s.Origin = "plugin " + p.Name + ", daos.lua"
			if _, err := db.Register(s); err != nil {
				fail(err)
			}
		}
		if p.ConfigDef == nil {
			continue
		}
		s, err := schema.SchemaFromMap(p.ConfigDef)
		if err == nil {
			err = schema.CheckSubschemaDefinition(s)
		}
		if err == nil {
			s.Origin = "plugin " + p.Name + ", schema.lua"
			err = db.RegisterPluginSchema(p.Name, s)
		}
		if err != nil {
			errs = append(errs, &LoadError{Plugin: p.Name, Phase: "schema", File: "kong/plugins/" + p.Name + "/schema.lua",
				Msg: "error initializing schema for plugin: " + err.Error()})
		}
	}
	return errs
}

// installDB gives a worker kong.db (when the host has a DB) and makes the
// worker run the Lua functions that schemas reference.
func (h *Host) installDB(w *Worker) {
	if h.Root.DB == nil {
		return
	}
	pdk.OpenDB(w.In)
}
