package schema

import (
	"context"
	"testing"
)

// A rate-limiting-like plugin config: the shape validated on every Admin
// API write of a plugin, and on every declarative load.
func benchPlugin(b testing.TB) (*Schema, map[string]any) {
	r := NewRegistry()
	consumers := mustSchema(b, m{"name": "consumers", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string", "uuid": true, "auto": true},
	)})
	if err := r.NewEntity(consumers); err != nil {
		b.Fatal(err)
	}
	p := mustSchema(b, m{
		"name": "plugins", "primary_key": a{"id"}, "subschema_key": "name",
		"fields": fields(
			"id", m{"type": "string", "uuid": true, "auto": true},
			"created_at", m{"type": "integer", "timestamp": true, "auto": true},
			"name", m{"type": "string", "required": true},
			"consumer", m{"type": "foreign", "reference": "consumers", "default": Null, "on_delete": "cascade"},
			"config", m{"type": "record", "abstract": true},
			"protocols", m{"type": "set", "elements": m{"type": "string", "one_of": a{"grpc", "grpcs", "http", "https"}},
				"required": true, "default": a{"grpc", "grpcs", "http", "https"}},
			"enabled", m{"type": "boolean", "required": true, "default": true},
			"tags", m{"type": "set", "elements": m{"type": "string", "required": true, "match": "^[ !-+%--.0-~]+$"}},
		),
	})
	if err := r.NewEntity(p); err != nil {
		b.Fatal(err)
	}
	conf := mustSchema(b, m{"name": "rate-limiting", "fields": fields(
		"consumer", m{"type": "foreign", "reference": "consumers", "eq": Null},
		"config", m{"type": "record", "fields": fields(
			"second", m{"type": "number", "gt": 0.0},
			"minute", m{"type": "number", "gt": 0.0},
			"hour", m{"type": "number", "gt": 0.0},
			"limit_by", m{"type": "string", "default": "consumer", "one_of": a{"consumer", "credential", "ip", "service", "header", "path"}},
			"policy", m{"type": "string", "default": "local", "one_of": a{"local", "cluster", "redis"}},
			"fault_tolerant", m{"type": "boolean", "required": true, "default": true},
			"redis", m{"type": "record", "fields": fields(
				"host", m{"type": "string"},
				"port", m{"type": "integer", "between": a{0.0, 65535.0}, "default": 6379.0},
				"timeout", m{"type": "integer", "between": a{0.0, 2147483646.0}, "default": 2000.0},
			)},
			"header_name", m{"type": "string"},
			"path", m{"type": "string", "starts_with": "/", "match_none": a{m{"pattern": "//", "err": "must not have empty segments"}}},
		), "entity_checks": a{
			m{"at_least_one_of": a{"second", "minute", "hour"}},
			m{"conditional": m{"if_field": "policy", "if_match": m{"eq": "redis"}, "then_field": "redis.host", "then_match": m{"required": true}}},
		}},
	)})
	if err := r.NewSubschema(p, "rate-limiting", conf); err != nil {
		b.Fatal(err)
	}
	return p, m{"name": "rate-limiting", "config": m{"second": 5.0, "hour": 10000.0, "path": "/api/v1"}, "tags": a{"team-a", "prod"}}
}

func BenchmarkInsertPath(b *testing.B) {
	p, in := benchPlugin(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		e, _, err := p.ProcessAutoFields(ctx, in, CtxInsert, nil)
		if err != nil {
			b.Fatal(err)
		}
		if errs, err := p.ValidateInsert(ctx, e, in); errs != nil || err != nil {
			b.Fatal(errs, err)
		}
	}
}

func BenchmarkValidateInsert(b *testing.B) {
	p, in := benchPlugin(b)
	ctx := context.Background()
	e, _, _ := p.ProcessAutoFields(ctx, in, CtxInsert, nil)
	b.ReportAllocs()
	for b.Loop() {
		if errs, err := p.ValidateInsert(ctx, e, in); errs != nil || err != nil {
			b.Fatal(errs, err)
		}
	}
}

// BenchmarkSelect is the read path a cache miss pays: row_to_entity's
// process_auto_fields("select").
func BenchmarkSelect(b *testing.B) {
	p, in := benchPlugin(b)
	ctx := context.Background()
	row, _, _ := p.ProcessAutoFields(ctx, in, CtxInsert, nil)
	b.ReportAllocs()
	for b.Loop() {
		cp := deepCopyMap(row) // select works in place
		if _, _, err := p.ProcessAutoFields(ctx, cp, CtxSelect, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLuaMatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := LuaMatch("my-plugin_name.v2~", `^[%w%.%-%_~]+$`); !ok {
			b.Fatal("no match")
		}
	}
}
