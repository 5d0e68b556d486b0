package host

import (
	"context"
	"fmt"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// The plugin iterator (Kong's kong/runloop/plugins_iterator.lua): which
// configuration of which plugin runs for a request. It is built in Go from
// the plugins rows, once per change, and shared by every worker through an
// atomic pointer; each worker turns the configurations it meets into Lua
// tables once per build (Worker.useIterator), never per request.

// Phase indexes of the phases the iterator keeps lists for.
const (
	phRewrite = iota
	phResponse
	phHeaderFilter
	phBodyFilter
	phLog
	phAccess
	phCertificate
	nPhases
)

// downstream phases: collected during access (plugins_iterator.lua
// DOWNSTREAM_PHASES), in this order.
var downstreamPhases = [...]int{phResponse, phHeaderFilter, phBodyFilter, phLog}

var phaseNames = [nPhases]string{
	phRewrite: "rewrite", phResponse: "response", phHeaderFilter: "header_filter",
	phBodyFilter: "body_filter", phLog: "log", phAccess: "access", phCertificate: "certificate",
}

// httpProtocols are the protocols of Kong's http subsystem
// (constants.PROTOCOLS_WITH_SUBSYSTEM): a plugin row runs on this proxy
// when one of its protocols is among them.
var httpProtocols = map[string]bool{"http": true, "https": true, "grpc": true, "grpcs": true, "ws": true, "wss": true}

// PluginConfig is one enabled plugins row as the iterator keeps it.
type PluginConfig struct {
	// Index is the configuration's place in Iterator.Configs (workers keep
	// their Lua tables by it).
	Index int
	ID    string
	Name  string
	// RouteID, ServiceID, ConsumerID: "" when the row has none.
	RouteID, ServiceID, ConsumerID string
	InstanceName                   string
	WsID                           string
	// Config is the row's config as stored, nulls removed (Kong's DAO
	// returns rows with nulls = false).
	Config map[string]any
	// Key is Kong's __key__ (kong.db.plugins:cache_key(name, route,
	// service, consumer, nil, ws_id)); Seq its __seq__.
	Key string
	Seq int64

	idL lua.LValue // ID as a Lua string (ngx.ctx.plugin_id), made once
}

// comboKey is plugins_iterator.lua's compound key "route:service:consumer".
type comboKey struct{ route, service, consumer string }

// shapeOf is the bit of k's shape: which of route, service and consumer
// it names.
func shapeOf(route, service, consumer bool) uint8 {
	b := 0
	if route {
		b |= 1
	}
	if service {
		b |= 2
	}
	if consumer {
		b |= 4
	}
	return 1 << b
}

// iterPlugin is a loaded plugin that has at least one enabled
// configuration.
type iterPlugin struct {
	desc *Plugin
	// slot is the plugin's index in Host.Plugins and in every worker's
	// plugins (the same priority order).
	slot   int
	combos map[comboKey]*PluginConfig
	// shapes has bit shapeOf(k) set for every key k of combos: lookup
	// skips the combinations no configuration has (a plugin configured
	// globally only is one lookup, not four or more per request).
	shapes uint8
	// phases the handler implements, by phase index.
	has [nPhases]bool
}

// Iterator is one build of the plugin iterator.
type Iterator struct {
	// Version counts builds (1 for the first).
	Version uint64
	// Configs are every enabled configuration, in the order read.
	Configs []*PluginConfig
	// plugins are the loaded plugins with a configuration, in priority
	// order (plugins_iterator.lua ws.plugins).
	plugins []*iterPlugin
	// globals[phase]: global configurations of the plugins implementing a
	// non-collecting phase (certificate among them), in priority order.
	globals [nPhases][]entry
	// configurable[slot]: the configurations of a plugin with a configure
	// handler (nil for the others and for none).
	configurable [][]*PluginConfig
}

// HasPlugins reports whether any plugin is configured (Kong's
// has_plugins).
func (it *Iterator) HasPlugins() bool { return it != nil && len(it.plugins) > 0 }

// lookup is plugins_iterator.lua lookup_cfg: the most specific
// configuration for a route, service and consumer ("" for none), in
// Kong's order.
func (p *iterPlugin) lookup(route, service, consumer string) *PluginConfig {
	if p.desc.NoRoute {
		route = ""
	}
	if p.desc.NoService {
		service = ""
	}
	if p.desc.NoConsumer {
		consumer = ""
	}
	c, has := p.combos, p.shapes
	if route != "" && service != "" && consumer != "" && has&shapeOf(true, true, true) != 0 {
		if cfg := c[comboKey{route, service, consumer}]; cfg != nil {
			return cfg
		}
	}
	if route != "" && consumer != "" && has&shapeOf(true, false, true) != 0 {
		if cfg := c[comboKey{route, "", consumer}]; cfg != nil {
			return cfg
		}
	}
	if service != "" && consumer != "" && has&shapeOf(false, true, true) != 0 {
		if cfg := c[comboKey{"", service, consumer}]; cfg != nil {
			return cfg
		}
	}
	if route != "" && service != "" && has&shapeOf(true, true, false) != 0 {
		if cfg := c[comboKey{route, service, ""}]; cfg != nil {
			return cfg
		}
	}
	if consumer != "" && has&shapeOf(false, false, true) != 0 {
		if cfg := c[comboKey{"", "", consumer}]; cfg != nil {
			return cfg
		}
	}
	if route != "" && has&shapeOf(true, false, false) != 0 {
		if cfg := c[comboKey{route, "", ""}]; cfg != nil {
			return cfg
		}
	}
	if service != "" && has&shapeOf(false, true, false) != 0 {
		if cfg := c[comboKey{"", service, ""}]; cfg != nil {
			return cfg
		}
	}
	if has&shapeOf(false, false, false) == 0 {
		return nil
	}
	return c[comboKey{}]
}

// Lookup returns the configuration of plugin name that applies to a
// request on route and service ("" for none) made by consumer ("" before
// authentication), or nil.
func (it *Iterator) Lookup(name, route, service, consumer string) *PluginConfig {
	for _, p := range it.plugins {
		if p.desc.Name == name {
			return p.lookup(route, service, consumer)
		}
	}
	return nil
}

// iterSeq numbers configurations node-wide (Kong's __seq__, from the kong
// shared dict's "plugins_iterator:__seq__" counter).
var iterSeq atomic.Int64

// buildIterator builds an iterator from plugins rows (all workspaces,
// with ws_id) for the host's loaded plugins. A row naming a plugin that
// is not enabled fails the build, as in Kong ("<name> plugin is in use
// but not enabled").
func (h *Host) buildIterator(ctx context.Context, rows []map[string]any, version uint64) (*Iterator, error) {
	it := &Iterator{Version: version, configurable: make([][]*PluginConfig, len(h.Plugins))}
	slots := make(map[string]int, len(h.Plugins))
	for i, p := range h.Plugins {
		slots[p.Name] = i
	}
	var defaultWs string
	var plugins *kongdb.DAO
	if h.Root.DB != nil {
		defaultWs, _ = h.Root.DB.DefaultWorkspace(ctx)
		plugins = h.Root.DB.DAO("plugins")
	}
	byslot := make([]*iterPlugin, len(h.Plugins))
	for _, row := range rows {
		name, _ := row["name"].(string)
		slot, ok := slots[name]
		if !ok {
			return nil, fmt.Errorf("%s plugin is in use but not enabled", name)
		}
		if !enabledForHTTP(row) {
			continue
		}
		cfg := &PluginConfig{Index: len(it.Configs), Name: name, Seq: iterSeq.Add(1)}
		cfg.ID, _ = row["id"].(string)
		cfg.idL = lua.LString(cfg.ID)
		cfg.RouteID = foreignID(row["route"])
		cfg.ServiceID = foreignID(row["service"])
		cfg.ConsumerID = foreignID(row["consumer"])
		cfg.InstanceName, _ = row["instance_name"].(string)
		cfg.WsID, _ = row["ws_id"].(string)
		if cfg.WsID == "" {
			cfg.WsID = defaultWs
		}
		if m, ok := row["config"].(map[string]any); ok {
			cfg.Config = withoutNulls(m)
		} else {
			cfg.Config = map[string]any{}
		}
		if plugins != nil {
			cfg.Key, _ = plugins.CacheKey(ctx, name, cfg.RouteID, cfg.ServiceID, cfg.ConsumerID, nil, cfg.WsID)
		}
		it.Configs = append(it.Configs, cfg)
		desc := h.Plugins[slot]
		p := byslot[slot]
		if p == nil {
			p = &iterPlugin{desc: desc, slot: slot, combos: map[comboKey]*PluginConfig{}}
			for _, ph := range desc.Phases {
				for i, n := range phaseNames {
					if n == ph {
						p.has[i] = true
					}
				}
			}
			byslot[slot] = p
		}
		p.combos[comboKey{cfg.RouteID, cfg.ServiceID, cfg.ConsumerID}] = cfg
		p.shapes |= shapeOf(cfg.RouteID != "", cfg.ServiceID != "", cfg.ConsumerID != "")
		if desc.hasPhase("configure") {
			it.configurable[slot] = append(it.configurable[slot], cfg)
		}
	}
	for _, p := range byslot {
		if p == nil {
			continue
		}
		it.plugins = append(it.plugins, p)
		// global: no route, service or consumer, in the default workspace
		g := p.combos[comboKey{}]
		if g == nil || g.WsID != defaultWs {
			continue
		}
		for _, ph := range [...]int{phCertificate, phRewrite, phResponse, phHeaderFilter, phBodyFilter, phLog} {
			if p.has[ph] {
				it.globals[ph] = append(it.globals[ph], entry{p, g})
			}
		}
	}
	return it, nil
}

func (p *Plugin) hasPhase(name string) bool {
	for _, ph := range p.Phases {
		if ph == name {
			return true
		}
	}
	return false
}

// enabledForHTTP is plugins_iterator.lua should_process_plugin: enabled,
// and one protocol of the http subsystem.
func enabledForHTTP(row map[string]any) bool {
	if e, ok := row["enabled"].(bool); ok && !e {
		return false
	}
	protos, ok := row["protocols"].([]any)
	if !ok {
		// Kong's default protocols include http
		return schema.IsNull(row["protocols"]) || row["protocols"] == nil
	}
	for _, p := range protos {
		if s, ok := p.(string); ok && httpProtocols[s] {
			return true
		}
	}
	return false
}

func foreignID(v any) string {
	if m, ok := v.(map[string]any); ok {
		if id, ok := m["id"].(string); ok {
			return id
		}
	}
	return ""
}

// withoutNulls copies a record without its null fields, at every level of
// records (arrays are kept as they are).
func withoutNulls(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case schema.NullType:
			continue
		case map[string]any:
			out[k] = withoutNulls(x)
		default:
			out[k] = v
		}
	}
	return out
}

// loadPluginRows reads every plugins row, all pages, every workspace.
func (h *Host) loadPluginRows(ctx context.Context) ([]map[string]any, error) {
	if h.Root.DB == nil {
		return nil, nil
	}
	d := h.Root.DB.DAO("plugins")
	if d == nil {
		return nil, fmt.Errorf("no plugins DAO")
	}
	seq, err := d.Each(ctx, 1000, map[string]any{"workspace": schema.Null, "show_ws_id": true})
	if err != nil {
		return nil, err
	}
	var rows []map[string]any
	for row, err := range seq {
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}
