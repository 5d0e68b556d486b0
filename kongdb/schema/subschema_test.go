package schema

import (
	"context"
	"testing"
)

// pluginsLike is a cut-down plugins entity: subschema_key name, abstract config.
func pluginsLike(t *testing.T, r *Registry) *Schema {
	consumers := mustSchema(t, m{"name": "consumers", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string", "uuid": true, "auto": true},
	)})
	if err := r.NewEntity(consumers); err != nil {
		t.Fatal(err)
	}
	p := mustSchema(t, m{
		"name": "plugins", "primary_key": a{"id"}, "subschema_key": "name",
		"subschema_error": "plugin '%s' not enabled; add it to the 'plugins' configuration property",
		"fields": fields(
			"id", m{"type": "string", "uuid": true, "auto": true},
			"name", m{"type": "string", "required": true},
			"consumer", m{"type": "foreign", "reference": "consumers", "default": Null, "on_delete": "cascade"},
			"config", m{"type": "record", "abstract": true},
			"protocols", m{"type": "set", "elements": m{"type": "string", "one_of": a{"http", "https", "grpc", "grpcs"}},
				"required": true, "default": a{"grpc", "grpcs", "http", "https"}},
			"enabled", m{"type": "boolean", "required": true, "default": true},
		),
	})
	if err := r.NewEntity(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPluginSubschema(t *testing.T) {
	r := NewRegistry()
	p := pluginsLike(t, r)
	conf := mustSchema(t, m{"name": "key-auth", "fields": fields(
		"consumer", m{"type": "foreign", "reference": "consumers", "eq": Null},
		"config", m{"type": "record", "fields": fields(
			"key_names", m{"type": "array", "elements": m{"type": "string"}, "required": true, "default": a{"apikey"}},
			"hide", m{"type": "boolean", "default": false},
			"nested", m{"type": "record", "fields": fields("x", m{"type": "integer", "default": 1.0})},
		)},
	)})
	if err := r.NewSubschema(p, "key-auth", conf); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Unknown plugin and missing name.
	errs, err := p.ValidateInsert(ctx, m{"name": "nope"}, nil)
	wantErrs(t, errs, err, m{"name": "plugin 'nope' not enabled; add it to the 'plugins' configuration property"})
	errs, err = p.ValidateInsert(ctx, m{}, nil)
	wantErrs(t, errs, err, m{"name": "required field missing"})

	// Insert: config and its nested records expand with defaults.
	out, _, err := p.ProcessAutoFields(ctx, m{"name": "key-auth"}, CtxInsert, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := js(out["config"]); got != `{"hide":false,"key_names":["apikey"],"nested":{"x":1}}` {
		t.Fatalf("config = %s", got)
	}
	errs, err = p.ValidateInsert(ctx, out, nil)
	wantErrs(t, errs, err, nil)

	// no_consumer: a consumer-scoped instance fails with "value must be null".
	out["consumer"] = m{"id": "4e36c2a6-4a46-4d8b-9d5a-2b3e3c7b3c11"}
	errs, err = p.ValidateInsert(ctx, out, nil)
	wantErrs(t, errs, err, m{"consumer": "value must be null"})

	// Config field errors are nested under config.
	delete(out, "consumer")
	out["config"].(map[string]any)["hide"] = "yes"
	out["config"].(map[string]any)["bogus"] = 1.0
	errs, err = p.ValidateInsert(ctx, out, nil)
	wantErrs(t, errs, err, m{"config": m{"hide": "expected a boolean", "bogus": "unknown field"}})
}

func TestNewSubschemaErrors(t *testing.T) {
	r := NewRegistry()
	p := pluginsLike(t, r)
	cases := map[string]m{
		"error in definition of 'x': foo: cannot create a new field": {"name": "x", "fields": fields(
			"foo", m{"type": "string"})},
		"error in definition of 'x': enabled: cannot change type in a specialized field": {"name": "x", "fields": fields(
			"enabled", m{"type": "string"})},
	}
	for want, def := range cases {
		if err := r.NewSubschema(p, "x", mustSchema(t, def)); err == nil || err.Error() != want {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	p.Field("config").Required = true // an abstract required field must be specialised
	err := r.NewSubschema(p, "x", mustSchema(t, m{"name": "x", "fields": fields("enabled", m{"type": "boolean"})}))
	if err == nil || err.Error() != "error in definition of 'x': config: abstract field was not specialized" {
		t.Errorf("err = %v", err)
	}
	c := r.Get("consumers")
	if err := r.NewSubschema(c, "x", mustSchema(t, m{"name": "x", "fields": a{}})); err == nil ||
		err.Error() != "error in definition of 'x': entities of type 'consumers' cannot have subschemas" {
		t.Errorf("err = %v", err)
	}
}
