package schema_test

// Golden files for what users read: the schema-violation strings the DAO
// (and the Admin API) return for a schema engine error table, one file per
// case under testdata/messages. `go test -run Golden -update` rewrites them.

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

type m = map[string]any
type a = []any

func def(t *testing.T, r *schema.Registry, d m) *schema.Schema {
	t.Helper()
	s, err := schema.SchemaFromMap(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.NewEntity(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func fl(kv ...any) a {
	out := a{}
	for i := 0; i < len(kv); i += 2 {
		out = append(out, m{kv[i].(string): kv[i+1]})
	}
	return out
}

func TestGoldenMessages(t *testing.T) {
	ctx := context.Background()
	r := schema.NewRegistry()
	consumers := def(t, r, m{"name": "consumers", "primary_key": a{"id"}, "fields": fl(
		"id", m{"type": "string", "uuid": true, "auto": true},
		"username", m{"type": "string", "unique": true},
		"custom_id", m{"type": "string", "unique": true},
		"port", m{"type": "integer", "between": a{0.0, 65535.0}},
		"proto", m{"type": "string", "one_of": a{"http", "https"}},
		"cfg", m{"type": "record", "fields": fl("a", m{"type": "integer"})},
		"tags", m{"type": "set", "elements": m{"type": "string"}},
	), "entity_checks": a{m{"at_least_one_of": a{"custom_id", "username"}}}})
	plugins := def(t, r, m{"name": "plugins", "primary_key": a{"id"}, "subschema_key": "name",
		"subschema_error": "plugin '%s' not enabled; add it to the 'plugins' configuration property",
		"fields": fl(
			"id", m{"type": "string", "uuid": true, "auto": true},
			"name", m{"type": "string", "required": true},
			"consumer", m{"type": "foreign", "reference": "consumers", "default": schema.Null},
			"config", m{"type": "record", "abstract": true},
		)})
	conf, err := schema.SchemaFromMap(m{"name": "rl", "fields": fl(
		"consumer", m{"type": "foreign", "reference": "consumers", "eq": schema.Null},
		"config", m{"type": "record", "fields": fl(
			"policy", m{"type": "string", "default": "local", "one_of": a{"local", "redis"}},
			"redis_host", m{"type": "string"},
			"limit", m{"type": "number", "gt": 0.0},
		), "entity_checks": a{m{"conditional": m{"if_field": "policy", "if_match": m{"eq": "redis"},
			"then_field": "redis_host", "then_match": m{"required": true}}}}},
	)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.NewSubschema(plugins, "rl", conf); err != nil {
		t.Fatal(err)
	}
	pluginInsert := func(in m) (m, error) {
		e, serrs, err := plugins.ProcessAutoFields(ctx, in, schema.CtxInsert, nil)
		if err != nil || serrs != nil {
			return serrs, err
		}
		return plugins.ValidateInsert(ctx, e, in)
	}
	uuid := "4e36c2a6-4a46-4d8b-9d5a-2b3e3c7b3c11"

	cases := []struct {
		name string
		run  func() (m, error)
	}{
		{"consumer_five_violations", func() (m, error) {
			return consumers.ValidateInsert(ctx, m{"id": "nope", "port": 70000.0, "proto": "ftp", "cfg": m{"a": "x"}}, nil)
		}},
		{"consumer_set_element", func() (m, error) {
			return consumers.ValidateInsert(ctx, m{"username": "bob", "cfg": m{}, "tags": a{"ok", 1.0}}, nil)
		}},
		{"consumer_update_at_least_one_of", func() (m, error) {
			return consumers.ValidateUpdate(ctx, m{"username": schema.Null}, nil, nil)
		}},
		{"plugin_not_enabled", func() (m, error) { return pluginInsert(m{"name": "nope"}) }},
		{"plugin_no_consumer", func() (m, error) {
			return pluginInsert(m{"name": "rl", "consumer": m{"id": uuid}})
		}},
		{"plugin_config_fields", func() (m, error) {
			return pluginInsert(m{"name": "rl", "config": m{"limit": -1.0, "bogus": true}})
		}},
		{"plugin_conditional", func() (m, error) {
			return pluginInsert(m{"name": "rl", "config": m{"policy": "redis"}})
		}},
		{"plugin_bad_consumer_id", func() (m, error) {
			return pluginInsert(m{"name": "rl", "consumer": m{"id": "x"}})
		}},
		{"metaschema_description", func() (m, error) {
			return schema.ValidateDefinition(ctx, m{"name": "things", "primary_key": a{"id"}, "fields": fl(
				"id", m{"type": "string", "uuid": true, "auto": true},
				"key", m{"type": "string", "description": "too short"},
			)}, false)
		}},
		{"metaschema_cache_key", func() (m, error) {
			return schema.ValidateDefinition(ctx, m{"name": "things", "primary_key": a{"id"}, "cache_key": a{"key"}, "fields": fl(
				"id", m{"type": "string", "uuid": true, "auto": true},
				"key", m{"type": "string", "nope": true},
			)}, false)
		}},
	}
	errs := kongdb.Errors{Strategy: "postgres"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			et, err := c.run()
			if err != nil {
				t.Fatal(err)
			}
			if et == nil {
				t.Fatal("no error table")
			}
			got := errs.SchemaViolation(et).Error() + "\n"
			path := filepath.Join("testdata", "messages", c.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Fatalf("message\n got  %q\n want %q", got, want)
			}
		})
	}
}

// TestKongVerifiedMessage pins the one message KONG-REFERENCE §3.3 verified
// by running Kong's own Lua.
func TestKongVerifiedMessage(t *testing.T) {
	want := "[postgres] 5 schema violations (at least one of these fields must be non-empty: 'custom_id', 'username'; cfg.a: expected an integer; id: expected a valid UUID; port: value should be between 0 and 65535; proto: expected one of: http, https)\n"
	got, err := os.ReadFile(filepath.Join("testdata", "messages", "consumer_five_violations.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
