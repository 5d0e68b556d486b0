package host

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/events"
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
		cfg := postgres.FromConf(h.Conf)
		cfg.Logger = h.Logger
		return postgres.Open(ctx, cfg)
	default:
		return nil, fmt.Errorf("database has an invalid value: '%s' (postgres, off)", db)
	}
}

// buildDB registers every plugin's entities and config schema on db, in
// plugin load order (entities of a plugin in daos.lua order), as Kong's
// plugins:load_plugin_schemas does: each definition passes Kong's
// MetaSchema first; every failure is reported.
func (h *Host) buildDB(db *kongdb.DB, plugins []*Plugin) []*LoadError {
	ctx := context.Background()
	if h.boot != nil {
		// Kong's MetaSchema checks a field's default as a value of the
		// field (`default = { type = "self" }`): its custom_validator runs,
		// in the worker that loaded the plugins
		ctx = schema.WithFuncRunner(ctx, h.boot)
	}
	var errs []*LoadError
	for _, p := range plugins {
		for _, def := range p.EntityDefs {
			ename, _ := def["name"].(string)
			fail := func(msg string) {
				errs = append(errs, &LoadError{Plugin: p.Name, Phase: "daos", File: "kong/plugins/" + p.Name + "/daos.lua",
					Path: p.Dir + "/daos.lua", Line: h.lineMentioning(p.Name, "daos.lua", `"`+ename+`"`, "'"+ename+"'", ename),
					Msg: fmt.Sprintf("schema of custom plugin entity '%s.%s' is invalid: %s", p.Name, ename, msg)})
			}
			if verrs, err := schema.ValidateDefinition(ctx, def, false); err != nil {
				fail(err.Error())
				continue
			} else if verrs != nil {
				fail(db.Errors.SchemaViolation(verrs).Error())
				continue
			}
			s, err := schema.SchemaFromMap(def)
			if err != nil {
				fail(err.Error())
				continue
			}
			s.Origin = "plugin " + p.Name + ", daos.lua"
			if _, err := db.Register(s); err != nil {
				fail(err.Error())
			}
		}
		if p.ConfigDef == nil {
			continue
		}
		if msg := registerPluginSchema(ctx, db, p); msg != "" {
			errs = append(errs, &LoadError{Plugin: p.Name, Phase: "schema", File: "kong/plugins/" + p.Name + "/schema.lua",
				Path: p.Dir + "/schema.lua", Line: h.lineMentioning(p.Name, "schema.lua", "name"), Msg: msg})
		}
	}
	return errs
}

// registerPluginSchema converts a plugin's schema.lua (a 0.x schema without
// a name is converted first, as Kong 2.8 did), checks it against Kong's
// MetaSubSchema and registers it as the plugins entity's subschema.
func registerPluginSchema(ctx context.Context, db *kongdb.DB, p *Plugin) string {
	def := p.ConfigDef
	if schema.IsLegacySchema(def) {
		conv, err := schema.ConvertLegacySchema(p.Name, def)
		if err != nil {
			return err.Error()
		}
		def = conv
	}
	if verrs, err := schema.ValidateDefinition(ctx, def, true); err != nil {
		return "error initializing schema for plugin: " + err.Error()
	} else if verrs != nil {
		return "error initializing schema for plugin: " + db.Errors.SchemaViolation(verrs).Error()
	}
	s, err := schema.SchemaFromMap(def)
	if err == nil {
		s.Origin = "plugin " + p.Name + ", schema.lua"
		err = db.RegisterPluginSchema(p.Name, s)
	}
	if err != nil {
		return "error initializing schema for plugin: " + err.Error()
	}
	return ""
}

// installDB gives a worker kong.db (when the host has a DB) and makes the
// worker run the Lua functions that schemas reference.
func (h *Host) installDB(w *Worker) {
	if h.Root.DB == nil {
		return
	}
	pdk.OpenDB(w.In)
}

// openClusterEvents polls Kong's cluster_events table of the database (and
// LISTENs for its notifications when pg_notify is on), so several nodes on
// one PostgreSQL invalidate each other's caches.
func openClusterEvents(h *Host, pg *postgres.Connector) (*events.ClusterEvents, error) {
	cfg := events.ClusterConfigFrom(h.Conf, h.Root.NodeIDValue())
	cfg.Logger = h.Logger
	// Invalidations commit with the write they describe (kongdb writeTx).
	cfg.TxFrom = func(ctx context.Context) events.DB {
		if tx := pg.TxOf(ctx); tx != nil {
			return tx
		}
		return nil
	}
	var listen *pgx.ConnConfig
	if cfg.Notify {
		lc, err := pgx.ParseConfig(pg.Config().ConnString())
		if err != nil {
			return nil, err
		}
		listen = lc
	}
	return events.NewPostgres(context.Background(), pg.Pool(), listen, cfg)
}

// WarnDeprecated is what Kong does when a schema validation meets a value
// for a field with `deprecation = { message, removal_in_version }`
// (kong.deprecation(message, { after = removal_in_version })): a warning
// in the error log, "<message> (deprecated after <version>)". It is the
// schema.DeprecationHandler of the Admin API's and the spec helpers'
// writes.
func (h *Host) WarnDeprecated(message, after string) {
	if after != "" {
		message += " (deprecated after " + after + ")"
	}
	h.Logger.Warn(message)
}
