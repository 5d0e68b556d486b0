package host

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk"
)

// Subsystems lists Kong's migration subsystems: core first, then one per
// enabled plugin with migrations, sorted by plugin name (Kong's
// kong/db/migrations/subsystems.lua). A module that is not a valid
// migration is an error naming plugin and migration.
func (h *Host) Subsystems() ([]*migrations.Subsystem, error) {
	if errs := h.loadMigrationsOf(h.Plugins); len(errs) > 0 {
		return nil, &PluginErrors{Errs: errs}
	}
	subs := []*migrations.Subsystem{migrations.Core()}
	plugins := append([]*Plugin(nil), h.Plugins...)
	sort.Slice(plugins, func(i, j int) bool { return plugins[i].Name < plugins[j].Name })
	var errs []string
	for _, p := range plugins {
		if len(p.Migrations) == 0 {
			continue
		}
		sub := &migrations.Subsystem{Name: p.Name, Namespace: "kong.plugins." + p.Name + ".migrations"}
		for _, name := range p.Migrations {
			m, err := migrationFromDef(name, p.MigrationDefs[name])
			if err != nil {
				errs = append(errs, fmt.Sprintf("migration '%s.%s' of '%s' subsystem is invalid: %s", sub.Namespace, name, p.Name, err))
				continue
			}
			sub.Migrations = append(sub.Migrations, m)
		}
		subs = append(subs, sub)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return subs, nil
}

// migrationFromDef reads { postgres = { up, up_f, teardown } }. A cassandra
// key (Kong ≤ 3.3 plugins) is accepted and ignored; `legacy` and `down`
// come from a 0.x migrations/postgres.lua (loadLegacyMigrations).
func migrationFromDef(name string, def map[string]any) (*migrations.Migration, error) {
	if def == nil {
		return nil, fmt.Errorf("not a table")
	}
	for k := range def {
		switch k {
		case "postgres", "cassandra", "name", "legacy", "down":
		default:
			return nil, fmt.Errorf("%s: unknown field", k)
		}
	}
	pg, ok := def["postgres"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("missing postgres strategy for migration '%s'", name)
	}
	m := &migrations.Migration{Name: name}
	if def["legacy"] == true { // a Kong 0.x migration (migrations/postgres.lua)
		m.Legacy = true
		m.Down, _ = def["down"].(string)
		m.DownF, _ = def["down"].(*schema.Func)
	}
	for k, v := range pg {
		switch k {
		case "up":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("postgres.up: expected a string")
			}
			m.Up = s
		case "up_f":
			f, ok := v.(*schema.Func)
			if !ok {
				return nil, fmt.Errorf("postgres.up_f: expected a function")
			}
			m.UpF = f
		case "teardown":
			f, ok := v.(*schema.Func)
			if !ok {
				return nil, fmt.Errorf("postgres.teardown: expected a function")
			}
			m.Teardown = f
		default:
			return nil, fmt.Errorf("postgres.%s: unknown field", k)
		}
	}
	if strings.TrimSpace(m.Up) == "" && m.UpF == nil && m.Teardown == nil {
		return nil, fmt.Errorf("at least one of these fields must be non-empty: 'postgres.up', 'postgres.up_f', 'postgres.teardown'")
	}
	return m, nil
}

// checkSchemaState refuses to start on a database that is not bootstrapped
// or lacks migrations of an enabled plugin, naming them, as Kong's
// check_state does at start-up; pending migrations are only logged.
func (h *Host) checkSchemaState(conn *postgres.Connector, descs []*Plugin) error {
	saved := h.Plugins
	h.Plugins = descs
	subs, err := h.Subsystems()
	h.Plugins = saved
	if err != nil {
		return err
	}
	st, err := migrations.LoadState(context.Background(), conn, subs)
	if err != nil {
		return err
	}
	if st.NeedsBootstrap {
		return fmt.Errorf("%s", strings.TrimSpace(migrations.NeedsBootstrapMsg))
	}
	if len(st.New) > 0 {
		return fmt.Errorf("New migrations available; run 'kong migrations up' to proceed:\n%s", st.New)
	}
	if len(st.Pending) > 0 {
		h.Logger.Warn("database has pending migrations; run 'kong migrations finish' when ready", "pending", st.Pending.String())
	}
	return nil
}

// MigrationTimeout bounds one Lua migration step.
var MigrationTimeout = 10 * time.Minute

// CallMigrationFunc runs a migration's up_f or teardown in a worker with
// the connector, with Kong's convention: a failure is an error thrown or a
// truthy second return value. It implements migrations.Runner.
func (h *Host) CallMigrationFunc(ctx context.Context, fn *schema.Func, conn *postgres.Connector) error {
	return h.Pool.AcquireFunc(ctx, func(w *Worker) error {
		lf, ok := w.funcs[fn.Ref]
		if !ok {
			// this worker has not read the plugin's migrations yet
			w.migrationsIn(pluginOfRef(fn.Ref))
			lf, ok = w.funcs[fn.Ref]
		}
		if !ok {
			return fmt.Errorf("no Lua function %s", fn.Ref)
		}
		L := w.L
		saved := w.timeout
		w.timeout = MigrationTimeout
		defer func() { w.timeout = saved }()
		w.In.Phase = "init"
		cv := pdk.ConnectorValue(L, conn, func() context.Context { return ctx })
		top := L.GetTop()
		if err := w.call(lf, 2, cv); err != nil {
			le := w.errorOf(pluginOfRef(fn.Ref), "migrations", err)
			return fmt.Errorf("%s", le.Error())
		}
		second := L.Get(top + 2)
		L.SetTop(top)
		if lua.LVAsBool(second) {
			return fmt.Errorf("%s", second.String())
		}
		return nil
	})
}

func pluginOfRef(ref string) string {
	p, _, _ := strings.Cut(ref, "/")
	return p
}
