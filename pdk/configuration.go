package pdk

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/luavm"
)

// newKongConfiguration is kong.configuration: a read-only view of the
// configuration with Kong's types: booleans for on/off properties, numbers
// for numeric ones, arrays for list ones, nil for unset (empty) ones.
func (in *Instance) newKongConfiguration() *lua.LTable {
	L := in.L
	t := L.NewTable()
	mt := L.NewTable()
	cache := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := luavm.CheckString(L, 2)
		if v := cache.RawGetString(k); v != lua.LNil {
			L.Push(v)
			return 1
		}
		v := confValue(L, in.Root.Conf, k)
		if k == "loaded_plugins" && in.Root.LoadedPlugins != nil {
			set := L.NewTable()
			for _, p := range in.Root.LoadedPlugins {
				set.RawSetString(p, lua.LTrue)
			}
			v = set
		}
		cache.RawSetString(k, v)
		L.Push(v)
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("cannot write to Kong configuration")
		return 0
	}))
	t.Metatable = mt
	t.RawSetString("remove_sensitive", L.NewFunction(func(L *lua.LState) int {
		L.Push(removeSensitive(L, in.Root.Conf))
		return 1
	}))
	return t
}

// confSensitive are the properties Kong's conf_loader hides
// (CONF_SENSITIVE), and confSensitivePlaceholder what shows instead.
var confSensitive = map[string]bool{
	"pg_password": true, "pg_ro_password": true, "proxy_server": true, "declarative_config_string": true,
	"cluster_cert_key": true, "ssl_cert_key": true, "client_ssl_cert_key": true, "admin_ssl_cert_key": true,
	"admin_gui_ssl_cert_key": true, "status_ssl_cert_key": true, "debug_ssl_cert_key": true,
}

const confSensitivePlaceholder = "******"

// removeSensitive is kong.configuration.remove_sensitive(): a writable
// copy of the configuration whose sensitive properties, when set, read
// as the placeholder (what Kong's sandbox gives untrusted code as
// kong.configuration). The properties set are copied; any other reads as
// kong.configuration answers it.
func removeSensitive(L *lua.LState, c *conf.Config) *lua.LTable {
	t := L.NewTable()
	if c == nil {
		return t
	}
	for _, k := range c.Keys() {
		v := confValue(L, c, k)
		if confSensitive[k] && v != lua.LNil {
			v = lua.LString(confSensitivePlaceholder)
		}
		t.RawSetString(k, v)
	}
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := luavm.CheckString(L, 2)
		if confSensitive[k] {
			return 0
		}
		v := confValue(L, c, k)
		L.Push(v)
		return 1
	}))
	t.Metatable = mt
	return t
}

// confListProps, confNumberProps and confBoolProps are the typed
// properties of Kong's conf_loader (its CONF_PARSERS' arrays, numbers and
// booleans) and luahost's own; others read as strings.
var (
	confListProps = map[string]bool{
		"admin_gui_listen": true, "admin_gui_ssl_cert": true, "admin_gui_ssl_cert_key": true,
		"admin_gui_url": true, "admin_listen": true, "admin_ssl_cert": true, "admin_ssl_cert_key": true,
		"cluster_dp_labels": true, "cluster_listen": true, "db_cache_warmup_entities": true,
		"dns_order": true, "dns_resolver": true, "headers": true, "headers_upstream": true,
		"loaded_plugins": true, "lua_shared_dicts": true, "lua_ssl_trusted_certificate": true,
		"plugins": true, "plugins_dir": true, "pluginserver_names": true, "port_maps": true,
		"proxy_listen": true, "resolver_address": true, "resolver_family": true, "ssl_cert": true,
		"ssl_cert_key": true, "status_listen": true, "status_ssl_cert": true,
		"status_ssl_cert_key": true, "stream_listen": true, "trusted_ips": true,
		"untrusted_lua_sandbox_environment": true, "untrusted_lua_sandbox_requires": true,
		"vaults": true, "wasm_filters": true,
	}
	confNumberProps = map[string]bool{
		"cluster_data_plane_purge_delay": true, "cluster_max_payload": true, "db_cache_neg_ttl": true,
		"db_cache_ttl": true, "db_resurrect_ttl": true, "db_update_frequency": true,
		"db_update_propagation": true, "dns_cache_size": true, "dns_error_ttl": true,
		"dns_not_found_ttl": true, "dns_stale_ttl": true, "dns_valid_ttl": true,
		"lua_max_post_args": true, "lua_max_req_headers": true, "lua_max_resp_headers": true,
		"lua_max_uri_args": true, "lua_socket_pool_size": true, "lua_ssl_verify_depth": true,
		"lua_timeout": true, "pg_backlog": true, "pg_keepalive_timeout": true,
		"pg_max_concurrent_queries": true, "pg_pool_size": true, "pg_port": true, "pg_ro_backlog": true,
		"pg_ro_keepalive_timeout": true, "pg_ro_max_concurrent_queries": true, "pg_ro_pool_size": true,
		"pg_ro_port": true, "pg_ro_semaphore_timeout": true, "pg_ro_timeout": true,
		"pg_semaphore_timeout": true, "pg_timeout": true, "resolver_error_ttl": true,
		"resolver_lru_cache_size": true, "resolver_stale_ttl": true, "resolver_valid_ttl": true,
		"upstream_keepalive_idle_timeout": true, "upstream_keepalive_max_requests": true,
		"upstream_keepalive_pool_size": true, "worker_events_max_payload": true, "worker_max": true,
		"worker_min": true, "worker_state_update_frequency": true,
	}
	confBoolProps = map[string]bool{
		"admin_gui_csp_header": true, "allow_debug_header": true, "anonymous_reports": true,
		"client_ssl": true, "cluster_cjson": true, "cluster_rpc": true, "cluster_rpc_sync": true,
		"cluster_use_proxy": true, "dedicated_config_processing": true, "dns_no_sync": true, "kic": true,
		"new_dns_client": true, "pg_notify": true, "pg_ro_ssl": true, "pg_ro_ssl_verify": true,
		"pg_ssl": true, "pg_ssl_verify": true, "proxy_server_ssl_verify": true,
		"real_ip_recursive": true, "request_debug": true, "wasm": true,
	}
)

// confValue is property k of c as kong.configuration and kong.conf_loader
// answer it: typed, nil when unset or empty.
func confValue(L *lua.LState, c *conf.Config, k string) lua.LValue {
	if c == nil {
		return lua.LNil
	}
	if k == "loaded_plugins" {
		// Kong's loaded_plugins is a set of plugin names
		set := L.NewTable()
		for _, p := range c.List("plugins") {
			set.RawSetString(p, lua.LTrue)
		}
		return set
	}
	switch k {
	case "enabled_headers":
		return enabledHeaders(L, c, "headers", headerKeyToName, []string{"server_tokens", "latency_tokens", "x-kong-request-id"})
	case "enabled_headers_upstream":
		return enabledHeaders(L, c, "headers_upstream", upstreamHeaderKeyToName, []string{"x-kong-request-id"})
	}
	raw := c.Get(k)
	if !c.Has(k) {
		return lua.LNil
	}
	switch {
	case confListProps[k]:
		arr := L.NewTable()
		for _, p := range c.List(k) {
			arr.Append(lua.LString(p))
		}
		return arr
	case raw == "":
		return lua.LNil
	case confBoolProps[k]:
		return lua.LBool(c.Bool(k))
	case confNumberProps[k]:
		if f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64); err == nil {
			return lua.LNumber(f)
		}
	}
	return lua.LString(raw)
}

// headerKeyToName and upstreamHeaderKeyToName are the tokens of Kong's
// headers and headers_upstream settings (lower case) and the names
// conf_loader's enabled_headers tables key them by.
var (
	headerKeyToName = map[string]string{
		"server_tokens": "server_tokens", "latency_tokens": "latency_tokens",
		"via": "Via", "server": "Server",
		"x-kong-proxy-latency": "X-Kong-Proxy-Latency", "x-kong-response-latency": "X-Kong-Response-Latency",
		"x-kong-admin-latency": "X-Kong-Admin-Latency", "x-kong-upstream-latency": "X-Kong-Upstream-Latency",
		"x-kong-upstream-status": "X-Kong-Upstream-Status", "x-kong-request-id": "X-Kong-Request-Id",
	}
	upstreamHeaderKeyToName = map[string]string{"x-kong-request-id": "X-Kong-Request-Id"}
)

// enabledHeaders is conf_loader's enabled_headers (or
// enabled_headers_upstream): every name of names false, then true for
// each token of the setting prop (defaults when unset) unless it is "off";
// server_tokens enables Via and Server, latency_tokens the latency headers.
func enabledHeaders(L *lua.LState, c *conf.Config, prop string, names map[string]string, defaults []string) *lua.LTable {
	t := L.NewTable()
	for _, n := range names {
		t.RawSetString(n, lua.LFalse)
	}
	list := defaults
	if c.Has(prop) {
		list = c.List(prop)
	}
	if len(list) > 0 && !strings.EqualFold(strings.TrimSpace(list[0]), "off") {
		for _, tok := range list {
			if n, ok := names[strings.ToLower(strings.TrimSpace(tok))]; ok {
				t.RawSetString(n, lua.LTrue)
			}
		}
	}
	if t.RawGetString("server_tokens") == lua.LTrue {
		t.RawSetString("Via", lua.LTrue)
		t.RawSetString("Server", lua.LTrue)
	}
	if t.RawGetString("latency_tokens") == lua.LTrue {
		for _, n := range []string{"X-Kong-Proxy-Latency", "X-Kong-Response-Latency", "X-Kong-Admin-Latency", "X-Kong-Upstream-Latency"} {
			t.RawSetString(n, lua.LTrue)
		}
	}
	return t
}

// SafeConfiguration is kong.configuration.remove_sensitive() as Go values
// (the Admin API's GET / answers it): each property set, typed as
// kong.configuration has it (booleans, numbers, lists), the sensitive
// ones as the placeholder.
func SafeConfiguration(c *conf.Config) map[string]any {
	out := map[string]any{}
	if c == nil {
		return out
	}
	for _, k := range c.Keys() {
		if !c.Has(k) {
			continue
		}
		raw := c.Get(k)
		switch {
		case confSensitive[k] && strings.TrimSpace(raw) != "":
			out[k] = confSensitivePlaceholder
		case confListProps[k]:
			list := []any{}
			for _, p := range c.List(k) {
				list = append(list, p)
			}
			out[k] = list
		case raw == "":
		case confBoolProps[k]:
			out[k] = c.Bool(k)
		case confNumberProps[k]:
			if f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64); err == nil {
				out[k] = f
			} else {
				out[k] = raw
			}
		default:
			out[k] = raw
		}
	}
	return out
}
