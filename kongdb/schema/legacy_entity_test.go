package schema

import (
	"context"
	"strings"
	"testing"
)

// seed 003's apikeys schema, as a 0.x daos.lua declares it.
func seedAPIKeys() map[string]any {
	return m{
		"table":       "apikeys",
		"primary_key": a{"id"},
		"fields": m{
			"id":          m{"type": "id", "dao_insert_value": true},
			"created_at":  m{"type": "timestamp", "dao_insert_value": true},
			"consumer_id": m{"type": "id", "required": true, "queryable": true, "foreign": "consumers:id"},
			"apikey":      m{"type": "string", "required": false, "unique": true, "queryable": true},
			"api_id":      m{"type": "id", "foreign": "apis:id"},
			"scopes":      m{"type": "array", "enum": a{"read", "write"}},
			"kind":        m{"type": "string", "enum": a{"a", "b"}, "default": "a", "regex": "^[ab]$", "func": &Func{Ref: "f"}},
		},
		"self_check": &Func{Ref: "check"},
	}
}

// A 0.x entity becomes a Kong 3 definition the MetaSchema accepts: id ->
// uuid (auto with dao_insert_value), timestamp -> integer timestamp,
// consumer_id with foreign "consumers:id" -> the foreign field consumer
// (column consumer_id, cascading), a reference to the removed apis entity
// a plain uuid, enum -> one_of, no generated Admin API; what only Lua can
// run (regex, func, self_check) is left to the 0.x DAO.
func TestConvertLegacyEntity(t *testing.T) {
	if !IsLegacyEntity(seedAPIKeys()) || IsLegacyEntity(m{"name": "x", "fields": a{m{"id": m{"type": "string"}}}}) {
		t.Fatal("IsLegacyEntity")
	}
	def, err := ConvertLegacyEntity("apikeys_dao", seedAPIKeys())
	if err != nil {
		t.Fatal(err)
	}
	got := js(def)
	want := `{"fields":[{"id":{"auto":true,"type":"string","uuid":true}},` +
		`{"api_id":{"type":"string","uuid":true}},` +
		`{"apikey":{"len_min":0,"type":"string","unique":true}},` +
		`{"consumer":{"on_delete":"cascade","reference":"consumers","required":true,"type":"foreign"}},` +
		`{"created_at":{"auto":true,"timestamp":true,"type":"integer"}},` +
		`{"kind":{"default":"a","len_min":0,"one_of":["a","b"],"type":"string"}},` +
		`{"scopes":{"elements":{"one_of":["read","write"],"type":"string"},"type":"array"}}],` +
		`"generate_admin_api":false,"name":"apikeys","primary_key":["id"]}`
	if got != want {
		t.Fatalf("converted:\n got %s\nwant %s", got, want)
	}
	verrs, err := ValidateDefinition(context.Background(), def, false)
	if err != nil || verrs != nil {
		t.Fatalf("metaschema: %v %v", verrs, err)
	}
	if _, err := SchemaFromMap(def); err != nil {
		t.Fatal(err)
	}
}

// Bad 0.x definitions name the field and the attribute.
func TestConvertLegacyEntityErrors(t *testing.T) {
	for _, tc := range []struct {
		def  map[string]any
		want string
	}{
		{m{"table": "t", "fields": m{"id": m{"type": "uuid"}}}, "fields.id: unkown legacy field type: uuid"},
		{m{"table": "t", "fields": m{"id": m{"type": "id", "index": true}}}, `fields.id: unknown legacy field attribute: "index"`},
		{m{"table": "t", "fields": m{"x": m{"type": "string"}}}, "primary_key: required field missing"},
		{m{"table": "t", "fields": m{"x": "string"}, "primary_key": a{"x"}}, "fields.x: expected a table"},
	} {
		_, err := ConvertLegacyEntity("t", tc.def)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.def, err, tc.want)
		}
	}
}
