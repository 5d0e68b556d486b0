package schema

import (
	"context"
	"testing"
)

// A 0.x-style schema.lua (key-auth / http-log generation).
func legacyDef() map[string]any {
	return m{
		"no_consumer": true,
		"fields": m{
			"key_names":        m{"type": "array", "required": true, "default": a{"apikey"}},
			"hide_credentials": m{"type": "boolean", "default": false},
			"http_endpoint":    m{"type": "url", "required": true},
			"method":           m{"type": "string", "default": "POST", "enum": a{"POST", "PUT", "PATCH"}},
			"anonymous":        m{"type": "string", "default": "", "func": &Func{Ref: "check_user"}},
			"limits": m{"type": "table", "schema": m{"fields": m{
				"second": m{"type": "number", "default": 10.0},
				"minute": m{"type": "number"},
			}}},
			"headers": m{"type": "table", "schema": m{"flexible": true, "fields": m{
				"value": m{"type": "string"},
			}}},
			"extra": m{"type": "table"},
		},
	}
}

func TestConvertLegacySchema(t *testing.T) {
	def, err := ConvertLegacySchema("old-plugin", legacyDef())
	if err != nil {
		t.Fatal(err)
	}
	if !IsLegacySchema(legacyDef()) || IsLegacySchema(def) {
		t.Fatal("IsLegacySchema")
	}
	r := NewRegistry()
	p := pluginsLike(t, r)
	conf, err := SchemaFromMap(def)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSubschemaDefinition(conf); err != nil {
		t.Fatal(err)
	}
	if err := r.NewSubschema(p, "old-plugin", conf); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A table field without a sub-schema becomes a required map of
	// strings (Kong 2.8 does the same), so it must be given.
	in := m{"name": "old-plugin", "config": m{"http_endpoint": "http://example.com/log", "extra": m{"k": "v"}}}
	out, _, err := p.ProcessAutoFields(ctx, in, CtxInsert, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := js(normalize(out["config"])) // (Null renders as {})
	want := `{"anonymous":"","extra":{"k":"v"},"headers":{},"hide_credentials":false,"http_endpoint":"http://example.com/log","key_names":["apikey"],"limits":{"minute":{},"second":10},"method":"POST"}`
	if got != want {
		t.Fatalf("config\n got  %s\n want %s", got, want)
	}
	if !IsNull(out["config"].(map[string]any)["headers"]) {
		t.Fatal("an optional flexible table defaults to null")
	}
	errs, err := p.ValidateInsert(ctx, out, in)
	wantErrs(t, errs, err, nil)

	// url, enum, scope and string-allows-empty behaviours.
	out["config"].(map[string]any)["http_endpoint"] = "not a url"
	out["config"].(map[string]any)["method"] = "GET"
	out["consumer"] = m{"id": "4e36c2a6-4a46-4d8b-9d5a-2b3e3c7b3c11"}
	errs, err = p.ValidateInsert(ctx, out, in)
	wantErrs(t, errs, err, m{
		"config":   m{"http_endpoint": "failed validating: not a url", "method": "expected one of: POST, PUT, PATCH"},
		"consumer": "value must be null",
	})
}

func TestConvertLegacySchemaErrors(t *testing.T) {
	_, err := ConvertLegacySchema("x", m{"fields": m{"a": m{"type": "blob"}}})
	if err == nil || err.Error() != "failed converting legacy schema for x: unkown legacy field type: blob" {
		t.Fatalf("err = %v", err)
	}
	_, err = ConvertLegacySchema("x", m{"fields": m{"a": m{"type": "string", "regex": "^a"}}})
	if err == nil || err.Error() != `failed converting legacy schema for x: unknown legacy field attribute: "regex"` {
		t.Fatalf("err = %v", err)
	}
}
