// Package conf reads luahost's configuration the way Kong reads its own:
// defaults, then a kong.conf-style file (-c), then KONG_* environment
// variables, then command-line flags, with Kong's property names.
package conf

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/kongdb/schema"
)

// Defaults are Kong's defaults for the properties luahost reads.
var Defaults = map[string]string{
	"plugins":                   "bundled",
	"plugins_dir":               "",
	"lua_package_path":          "./?.lua;./?/init.lua;",
	"lua_rocks_trees":           "",
	"log_level":                 "notice",
	"database":                  "off",
	"pg_host":                   "127.0.0.1",
	"pg_port":                   "5432",
	"pg_user":                   "kong",
	"pg_password":               "",
	"pg_database":               "kong",
	"pg_schema":                 "",
	"pg_timeout":                "5000",
	"pg_ssl":                    "off",
	"pg_ssl_verify":             "off",
	"pg_max_concurrent_queries": "0",
	"pg_semaphore_timeout":      "60000",
	"pg_keepalive_timeout":      "",
	"pg_pool_size":              "",
	"mem_cache_size":            "128m",
	"db_cache_ttl":              "0",
	"db_cache_neg_ttl":          "",
	"db_resurrect_ttl":          "30",
	"db_update_frequency":       "5",
	"db_update_propagation":     "0",
	"db_cache_warmup_entities":  "services",
	"nginx_worker_processes":    "auto",
	"worker_min":                "",
	"worker_max":                "",
	"lua_timeout":               "5000",
	// luahost's bounds (issue 14): what the host allocates for one worker
	// in one call, Go's soft memory limit for the process ("" = Go's
	// default), the largest Lua file compiled, OpenResty's regex cache.
	"lua_memory_budget":           "256m",
	"lua_memory_limit":            "",
	"lua_max_source_size":         "16m",
	"lua_regex_cache_max_entries": "1024",
	"prefix":                      "/usr/local/kong/",
	"proxy_listen":                "0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384",
	"admin_listen":                "127.0.0.1:8001 reuseport backlog=16384, 127.0.0.1:8444 http2 ssl reuseport backlog=16384",
	"declarative_config":          "",
	"declarative_config_string":   "",
	"status_listen":               "127.0.0.1:8007 reuseport backlog=16384",
	"proxy_error_log":             "-",
	"proxy_access_log":            "off",
	"admin_access_log":            "off",
	"lua_shared_dicts":            "",
	"pg_notify":                   "on",
	// eventual: the router and plugins iterator follow changes in the
	// background; strict: a request rebuilds them first when stale
	"worker_consistency": "eventual",
	// Kong's router_flavor: luahost's router is traditional_compatible's;
	// traditional also honours the routes' path_handling v1
	"router_flavor": "traditional_compatible",
	// Kong's debug headers (kong/router/utils.lua add_debug_headers)
	"allow_debug_header": "off",
	// Kong's DNS RESOLVER section (the client luahost implements:
	// new_dns_client's resolver_* are not read).
	"dns_resolver":      "",
	"dns_hostsfile":     "/etc/hosts",
	"dns_order":         "LAST,SRV,A,CNAME",
	"dns_valid_ttl":     "",
	"dns_stale_ttl":     "3600",
	"dns_cache_size":    "10000",
	"dns_not_found_ttl": "30",
	"dns_error_ttl":     "1",
	"dns_no_sync":       "off",
}

// Config holds resolved properties.
type Config struct {
	props  map[string]string
	source map[string]string // where each value came from, for `luahost config`
}

// New returns a Config with Kong's defaults.
func New() *Config {
	c := &Config{props: map[string]string{}, source: map[string]string{}}
	for k, v := range Defaults {
		c.props[k] = v
		c.source[k] = "default"
	}
	return c
}

// Set sets a property.
func (c *Config) Set(k, v, source string) {
	k = strings.ToLower(strings.TrimSpace(k))
	c.props[k] = v
	c.source[k] = source
}

// Append adds a value to a repeatable property (plugins_dir), comma-joined.
func (c *Config) Append(k, v, source string) {
	if cur := c.props[k]; cur != "" && c.source[k] != "default" {
		v = cur + "," + v
	}
	c.Set(k, v, source)
}

// Get returns a property ("" if unset).
func (c *Config) Get(k string) string { return c.props[k] }

// Has reports whether k is set.
func (c *Config) Has(k string) bool { _, ok := c.props[k]; return ok }

// Source tells where k's value came from.
func (c *Config) Source(k string) string { return c.source[k] }

// Keys lists every property, sorted.
func (c *Config) Keys() []string {
	ks := make([]string, 0, len(c.props))
	for k := range c.props {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Bool reads on/off/true/false.
func (c *Config) Bool(k string) bool {
	switch strings.ToLower(c.props[k]) {
	case "on", "true", "yes", "1":
		return true
	}
	return false
}

// Int reads an integer, with def when unset or invalid.
func (c *Config) Int(k string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(c.props[k]))
	if err != nil {
		return def
	}
	return n
}

// Float reads a number, with def when unset or invalid.
func (c *Config) Float(k string, def float64) float64 {
	n, err := strconv.ParseFloat(strings.TrimSpace(c.props[k]), 64)
	if err != nil {
		return def
	}
	return n
}

// List reads a comma-separated list (empty entries dropped).
func (c *Config) List(k string) []string {
	var out []string
	for _, p := range strings.Split(c.props[k], ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Size reads a size such as 128m, 12k, 1g (bytes).
func (c *Config) Size(k string, def int) int {
	s := strings.ToLower(strings.TrimSpace(c.props[k]))
	if s == "" {
		return def
	}
	mult := 1
	switch s[len(s)-1] {
	case 'k':
		mult, s = 1<<10, s[:len(s)-1]
	case 'm':
		mult, s = 1<<20, s[:len(s)-1]
	case 'g':
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n * mult
}

// LoadFile reads a kong.conf-style file: `key = value`, # comments (a `\#`
// is a literal #), blank lines ignored.
func (c *Config) LoadFile(path string) error {
	props, err := ReadFile(path)
	if err != nil {
		return err
	}
	for _, p := range props {
		c.Set(p[0], p[1], path)
	}
	return nil
}

// ReadFile is the properties of a kong.conf-style file alone (no defaults,
// no environment), as key and value pairs in the file's order, keys as
// written.
func ReadFile(path string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := stripComment(sc.Text())
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected 'key = value', got %q", path, n, strings.TrimSpace(line))
		}
		out = append(out, [2]string{k, strings.TrimSpace(v)})
	}
	return out, sc.Err()
}

func stripComment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '#' {
			b.WriteByte('#')
			i++
			continue
		}
		if s[i] == '#' {
			break
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// LoadEnv applies KONG_<PROPERTY> variables (KONG_PG_HOST -> pg_host).
func (c *Config) LoadEnv(environ []string) {
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, "KONG_") {
			continue
		}
		c.Set(strings.ToLower(strings.TrimPrefix(k, "KONG_")), v, "env "+k)
	}
}

// numberProps and booleanProps are the properties Kong's conf loader types
// (CONF_PARSERS typ = "number" / "boolean") among those luahost reads.
var (
	numberProps = []string{
		"pg_port", "pg_timeout", "pg_max_concurrent_queries", "pg_semaphore_timeout",
		"pg_keepalive_timeout", "pg_pool_size", "pg_backlog", "_debug_pg_ttl_cleanup_interval",
		"pg_ro_port", "pg_ro_timeout", "pg_ro_max_concurrent_queries", "pg_ro_semaphore_timeout",
		"pg_ro_keepalive_timeout", "pg_ro_pool_size", "pg_ro_backlog",
		"db_update_frequency", "db_update_propagation", "db_cache_ttl", "db_cache_neg_ttl",
		"db_resurrect_ttl", "lua_timeout", "worker_min", "worker_max",
		"dns_valid_ttl", "dns_stale_ttl", "dns_cache_size", "dns_not_found_ttl", "dns_error_ttl",
	}
	booleanProps = []string{"pg_ssl", "pg_ssl_verify", "pg_ro_ssl", "pg_ro_ssl_verify", "pg_notify", "dns_no_sync", "allow_debug_header"}
)

// Check refuses typed properties whose value does not parse, with Kong's
// message ("pg_port is not a number: 'abc'"), every error at once, instead
// of the readers (Int, Float, Bool) quietly using their defaults. Empty
// values are unset, as in Kong.
func (c *Config) Check() error {
	var errs []string
	for _, k := range numberProps {
		v := strings.TrimSpace(c.props[k])
		if v == "" {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err != nil || f != f {
			errs = append(errs, fmt.Sprintf("%s is not a number: '%s'", k, v))
		}
	}
	for _, k := range booleanProps {
		switch strings.ToLower(strings.TrimSpace(c.props[k])) {
		case "", "on", "off", "true", "false", "yes", "no", "1", "0":
		default:
			errs = append(errs, fmt.Sprintf("%s is not a boolean: '%s'", k, c.props[k]))
		}
	}
	if id := strings.TrimSpace(c.props["node_id"]); id != "" && !schema.IsUUID(id) {
		errs = append(errs, "node_id must be a valid UUID")
	}
	switch role := strings.TrimSpace(c.props["role"]); role {
	case "", "traditional":
	case "control_plane", "data_plane":
		// valid for Kong; luahost has no clustering to play either part
		errs = append(errs, fmt.Sprintf("role = %s: luahost has no hybrid mode (no control plane, no data plane, "+
			"no clustering between nodes); run the node with role = traditional", role))
	default:
		errs = append(errs, fmt.Sprintf("role has an invalid value: '%s' (data_plane, control_plane, traditional)", role))
	}
	switch v := strings.TrimSpace(c.props["worker_consistency"]); v {
	case "", "strict", "eventual":
	default:
		errs = append(errs, fmt.Sprintf("worker_consistency has an invalid value: '%s' (strict, eventual)", v))
	}
	switch v := strings.TrimSpace(c.props["router_flavor"]); v {
	case "", "traditional", "traditional_compatible", "expressions":
	default:
		errs = append(errs, fmt.Sprintf("router_flavor has an invalid value: '%s' (traditional, traditional_compatible, expressions)", v))
	}
	// the custom validations of Kong's conf_loader (parse.lua)
	for _, server := range c.List("dns_resolver") {
		if _, ok := dnsclient.ParseNameserver(server); !ok {
			errs = append(errs, "dns_resolver must be a comma separated list in the form of IPv4/6 or IPv4/6:port, got '"+server+"'")
		}
	}
	if f := strings.TrimSpace(c.props["dns_hostsfile"]); f != "" {
		if st, err := os.Stat(f); err != nil || !st.Mode().IsRegular() {
			errs = append(errs, "dns_hostsfile: file does not exist")
		}
	}
	for _, name := range c.List("dns_order") {
		if !dnsclient.ValidOrderEntry(name) {
			errs = append(errs, fmt.Sprintf("dns_order: invalid entry '%s'", name))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "\n"))
}
