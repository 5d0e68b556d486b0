package host

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/luahost/luahost/kongdb/schema"
)

const typedefsSchemaLua = `
local typedefs = require "kong.db.schema.typedefs"

return {
  name = "td-all",
  fields = {
    { consumer = typedefs.no_consumer },
    { route = typedefs.no_route },
    { service = typedefs.no_service },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { http_method = typedefs.http_method },
          { protocol = typedefs.protocol },
          { host = typedefs.host { required = true, default = "localhost" } },
          { redis_host = typedefs.redis_host },
          { host_port = typedefs.host_with_optional_port },
          { wildcard = typedefs.wildcard_host },
          { ip = typedefs.ip },
          { ip_or_cidr = typedefs.ip_or_cidr },
          { cidr = typedefs.cidr },
          { cidr_v4 = typedefs.cidr_v4 },
          { port = typedefs.port { default = 6379 } },
          { path = typedefs.path },
          { url = typedefs.url },
          { cookie_name = typedefs.cookie_name },
          { header_name = typedefs.header_name { default = "x-td" } },
          { timeout = typedefs.timeout { default = 2000 } },
          { name = typedefs.name },
          { utf8_name = typedefs.utf8_name },
          { sni = typedefs.sni },
          { redis_server_name = typedefs.redis_server_name },
          { certificate = typedefs.certificate },
          { key = typedefs.key },
          { tags = typedefs.tags },
          { capability = typedefs.capability },
          { sources = typedefs.sources },
          { destinations = typedefs.destinations },
          { methods = typedefs.methods },
          { hosts = typedefs.hosts },
          { paths = typedefs.router_paths },
          { headers = typedefs.headers },
          { version = typedefs.semantic_version },
          { pem = typedefs.pem },
          { jwk = typedefs.jwk },
          { queue = typedefs.queue },
          { propagation = typedefs.propagation },
          { functions = typedefs.lua_code },
          { ttl = typedefs.ttl },
        },
      },
    },
  },
}
`

const typedefsDaosLua = `
local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "td_things",
    primary_key = { "id" },
    endpoint_key = "name",
    cache_key = { "name" },
    fields = {
      { id = typedefs.uuid },
      { created_at = typedefs.auto_timestamp_s },
      { updated_at = typedefs.auto_timestamp_ms },
      { consumer = { type = "foreign", reference = "consumers", on_delete = "cascade" } },
      { name = typedefs.utf8_name { required = true } },
      { host = typedefs.host },
      { tags = typedefs.tags },
    },
  },
}
`

const typedefsHandlerLua = `
return { PRIORITY = 1, VERSION = "0.1.0", access = function() end }
`

// A plugin whose schema.lua and daos.lua use every typedef loads (Kong's
// MetaSchema and MetaSubSchema accept the definitions), and the typedef
// validators run as Go, without a Lua runner, with Kong's messages.
func TestTypedefsPluginLoads(t *testing.T) {
	dir := t.TempDir()
	pdir := filepath.Join(dir, "td-all")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"handler.lua": typedefsHandlerLua, "schema.lua": typedefsSchemaLua, "daos.lua": typedefsDaosLua,
	} {
		if err := writeFile(filepath.Join(pdir, name), src); err != nil {
			t.Fatal(err)
		}
	}
	c := testConf(t, dir)
	c.Set("plugins", "td-all", "test")
	h := newTestHost(t, c)
	p := h.Plugin("td-all")
	if p == nil {
		t.Fatal("plugin td-all not loaded")
	}
	if !p.NoConsumer || !p.NoRoute || !p.NoService {
		t.Errorf("no_consumer/no_route/no_service not seen: %+v", p)
	}
	ctx := context.Background()
	for i, def := range append([]map[string]any{p.ConfigDef}, p.EntityDefs...) {
		verrs, err := schema.ValidateDefinition(ctx, def, i == 0)
		if err != nil || verrs != nil {
			t.Fatalf("definition %d rejected by the metaschema: %v %v", i, err, verrs)
		}
	}
	s, err := schema.SchemaFromMap(p.ConfigDef)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Field("config")
	if cfg == nil {
		t.Fatal("no config field")
	}
	cases := []struct {
		field string
		value any
		want  any
	}{
		{"host", "example.com:80", "must not have a port"},
		{"host", "exa mple", "invalid value: exa mple"},
		{"redis_host", "::1", nil},
		{"host_port", "a.com:99999", "invalid port number"},
		{"wildcard", "a.*.com", "wildcard must be leftmost or rightmost character"},
		{"ip", "1.2.3.4.5", "not an ip address: 1.2.3.4.5"},
		{"ip_or_cidr", "10.0.0.0/40", "invalid ip or cidr range: '10.0.0.0/40'"},
		{"cidr", "::1", "invalid ipv4 cidr range: '::1'"},
		{"port", 70000.0, "value should be between 0 and 65535"},
		{"path", "/a b", "invalid path: '/a b' (characters outside of the reserved list of RFC 3986 found)"},
		{"url", "example.com", "missing host in url"},
		{"cookie_name", "a b", "contains one or more invalid characters. ASCII control characters (0-31;127), space, tab and the characters ()<>@,;:\\\"/?={}[] are not allowed."},
		{"header_name", "a b", "bad header name 'a b', allowed characters are A-Z, a-z, 0-9, '_', and '-'"},
		{"name", "a/b", "invalid value 'a/b': it must only contain alphanumeric and '., -, _, ~' characters"},
		{"utf8_name", "a/b", "invalid value 'a/b': the only accepted ascii characters are alphanumerics or ., -, _, and ~"},
		{"sni", "1.2.3.4", "must not be an IP"},
		{"redis_server_name", "a.com:1", "must not have a port"},
		{"tags", []any{"a,b"}, []any{"invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences"}},
		{"methods", []any{"get"}, []any{"invalid value: get"}},
		{"paths", []any{"/a/./b"}, []any{"non-normalized path, consider use '/a/b' instead"}},
		{"version", "1..0", "must not have empty version segments"},
		{"ttl", -1.0, "value should be between 0 and 100000000"},
		{"timeout", 1.5, "expected an integer"},
	}
	for _, tc := range cases {
		f := cfg.RecordSchema().Field(tc.field)
		if f == nil {
			t.Errorf("no config field %s", tc.field)
			continue
		}
		got, err := s.ValidateField(ctx, f, tc.value)
		if err != nil {
			t.Errorf("%s: %v", tc.field, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s = %#v: got %#v, want %#v", tc.field, tc.value, got, tc.want)
		}
	}
}
