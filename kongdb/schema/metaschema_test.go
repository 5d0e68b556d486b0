package schema

import (
	"context"
	"testing"
)

func keyauthCredentials() map[string]any {
	return m{
		"name": "keyauth_credentials", "primary_key": a{"id"}, "endpoint_key": "key",
		"cache_key": a{"key"}, "workspaceable": true, "ttl": true,
		"admin_api_name": "key-auths", "admin_api_nested_name": "key-auth",
		"fields": a{
			m{"id": m{"type": "string", "uuid": true, "auto": true}},
			m{"created_at": m{"type": "integer", "timestamp": true, "auto": true}},
			m{"consumer": m{"type": "foreign", "reference": "consumers", "required": true, "on_delete": "cascade"}},
			m{"key": m{"type": "string", "required": false, "unique": true, "auto": true}},
			m{"tags": m{"type": "set", "elements": m{"type": "string", "required": true}}},
		},
	}
}

func rateLimitingConfig() map[string]any {
	return m{
		"name": "rate-limiting",
		"fields": a{
			m{"consumer": m{"type": "foreign", "reference": "consumers", "eq": Null}},
			m{"protocols": m{"type": "set", "required": true, "default": a{"grpc", "grpcs", "http", "https"},
				"elements": m{"type": "string", "one_of": a{"grpc", "grpcs", "http", "https"}}}},
			m{"config": m{"type": "record", "fields": a{
				m{"second": m{"type": "number", "gt": 0.0, "description": "The number of HTTP requests per second."}},
				m{"policy": m{"type": "string", "default": "local", "one_of": a{"local", "cluster", "redis"}}},
				m{"redis_host": m{"type": "string"}},
				m{"path": m{"type": "string", "match_none": a{m{"pattern": "//", "err": "must not have empty segments"}}}},
			},
				"entity_checks": a{
					m{"at_least_one_of": a{"second"}},
					m{"conditional": m{"if_field": "policy", "if_match": m{"eq": "redis"},
						"then_field": "redis_host", "then_match": m{"required": true}}},
				},
				"shorthand_fields": a{m{"redis_port": m{"type": "integer", "func": &Func{Ref: "f"},
					"deprecation": m{"message": "use redis.port", "removal_in_version": "4.0",
						"replaced_with": a{m{"path": a{"redis", "port"}}}}}}},
			}},
		},
	}
}

func TestValidateDefinitionAccepts(t *testing.T) {
	ctx := context.Background()
	errs, err := ValidateDefinition(ctx, keyauthCredentials(), false)
	wantErrs(t, errs, err, nil)
	errs, err = ValidateDefinition(ctx, rateLimitingConfig(), true)
	wantErrs(t, errs, err, nil)
}

func TestValidateDefinitionRefuses(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		mutate func(d map[string]any)
		sub    bool
		want   m
	}{
		{"unknown top-level key", func(d m) { d["bogus"] = true }, false, m{"bogus": "unknown field"}},
		{"subschema keys are limited", func(d m) { d["primary_key"] = a{"id"} }, true, m{"primary_key": "unknown field"}},
		{"unknown field attribute", func(d m) {
			d["fields"].([]any)[1].(m)["created_at"].(m)["bogus"] = true
		}, false, m{"fields": a{nil, m{"bogus": "unknown field"}}}},
		{"description too short", func(d m) {
			d["fields"].([]any)[3].(m)["key"].(m)["description"] = "short"
		}, false, m{"fields": a{nil, nil, nil, m{"description": "length must be at least 10"}}}},
		{"default must fit its own field", func(d m) {
			d["fields"].([]any)[3].(m)["key"].(m)["default"] = ""
		}, false, m{"fields": a{nil, nil, nil, m{"default": "length must be at least 1"}}}},
		{"single cache key must be unique", func(d m) {
			d["fields"].([]any)[3].(m)["key"].(m)["unique"] = false
		}, false, m{"cache_key": "a field used as a single cache key must be unique"}},
		{"endpoint key must be a field", func(d m) { d["endpoint_key"] = "nope" }, false,
			m{"endpoint_key": "value must be a field name"}},
		{"ttl is reserved", func(d m) { d["fields"] = append(d["fields"].([]any), m{"ttl": m{"type": "integer"}}) }, false,
			m{"ttl": "ttl is a reserved field name when ttl is enabled"}},
		{"type restricted attribute", func(d m) {
			d["fields"].([]any)[4].(m)["tags"].(m)["unique"] = true
		}, false, m{"tags": "field of type 'set' cannot have attribute 'unique'"}},
		{"array needs elements", func(d m) { d["fields"].([]any)[4].(m)["tags"] = m{"type": "array"} }, false,
			m{"tags": "field of type 'array' must declare 'elements'"}},
		{"missing type", func(d m) { d["fields"].([]any)[4].(m)["tags"] = m{"required": true} }, false,
			m{"fields": a{nil, nil, nil, nil, m{"type": "required field missing"}}, "tags": "missing type declaration"}},
		{"missing name", func(d m) { delete(d, "name") }, false, m{"name": "field required for entity check"}},
		{"unknown entity checker", func(d m) {
			d["entity_checks"] = a{m{"only_one": a{"a"}}}
		}, false, m{"entity_checks": a{m{"only_one": "unknown field",
			"@entity": a{"exactly one of these fields must be non-empty: 'at_least_one_of', 'conditional_at_least_one_of', 'only_one_of', 'distinct', 'conditional', 'custom_entity_check', 'mutually_required', 'mutually_exclusive', 'mutually_exclusive_sets'"}}}}},
		{"unique_across_ws needs unique", func(d m) {
			d["fields"].([]any)[3].(m)["key"].(m)["unique"] = nil
			delete(d, "cache_key")
			d["fields"].([]any)[3].(m)["key"].(m)["unique_across_ws"] = true
		}, false, m{"fields": a{nil, nil, nil, m{"unique": "required field missing",
			"@entity": a{"failed conditional validation given value of field 'unique_across_ws'"}}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := keyauthCredentials()
			if c.sub {
				d = rateLimitingConfig()
			}
			c.mutate(d)
			errs, err := ValidateDefinition(ctx, d, c.sub)
			wantErrs(t, errs, err, c.want)
		})
	}
}

// TestToMapRoundTrip: a definition read and written back is the same
// definition (and still passes the MetaSchema).
func TestToMapRoundTrip(t *testing.T) {
	for _, c := range []struct {
		def map[string]any
		sub bool
	}{{keyauthCredentials(), false}, {rateLimitingConfig(), true}} {
		s, err := SchemaFromMap(c.def)
		if err != nil {
			t.Fatal(err)
		}
		back := s.ToMap()
		if !c.sub {
			c.def["table_name"] = c.def["name"] // Kong's metaschema check defaults it
		} else {
			delete(back, "table_name")
			delete(back, "primary_key")
		}
		if js(normalize(back)) != js(normalize(c.def)) {
			t.Fatalf("round trip\n got  %s\n want %s", js(back), js(c.def))
		}
		errs, err := ValidateDefinition(context.Background(), back, c.sub)
		wantErrs(t, errs, err, nil)
	}
}

// A default validated against its field (the metaschema's `default`) whose
// elements carry entity_checks: the processed definition holds the other
// checkers as nulls, and Kong's datadog schema (its metrics default) is
// accepted.
func TestValidateDefinitionDefaultWithEntityChecks(t *testing.T) {
	def := m{"name": "datadog", "fields": a{
		m{"config": m{"type": "record", "fields": a{
			m{"metrics": m{"type": "array", "required": true,
				"default": a{m{"name": "request_count", "stat_type": "counter", "sample_rate": 1.0}},
				"elements": m{"type": "record",
					"fields": a{
						m{"name": m{"type": "string", "required": true}},
						m{"stat_type": m{"type": "string", "required": true, "one_of": a{"counter", "timer"}}},
						m{"sample_rate": m{"type": "number", "between": a{0.0, 1.0}}},
					},
					"entity_checks": a{m{"conditional": m{
						"if_field": "stat_type", "if_match": m{"one_of": a{"counter", "gauge"}},
						"then_field": "sample_rate", "then_match": m{"required": true}}}},
				}}},
		}}},
	}}
	errs, err := ValidateDefinition(context.Background(), def, true)
	wantErrs(t, errs, err, nil)
}
