package schema

import (
	"strings"
	"testing"
)

func TestJSONSchemaSubset(t *testing.T) {
	obj := map[string]any{
		"$schema": "http://json-schema.org/draft-04/schema#", "title": "t", "description": "d",
		"type": "object", "required": []any{"name"},
		"properties": map[string]any{
			"name": map[string]any{"type": "string", "minLength": float64(2), "pattern": "^[a-z]+$"},
			"n":    map[string]any{"type": "integer", "minimum": float64(1), "maximum": float64(10)},
			"tags": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "uniqueItems": true},
		},
		"additionalProperties": false,
	}
	for _, c := range []struct {
		v    any
		want string
	}{
		{map[string]any{"name": "ab", "n": float64(3), "tags": []any{"x", "y"}}, ""},
		{map[string]any{"n": float64(3)}, "property name is required"},
		{map[string]any{"name": "a"}, "property name validation failed: string too short, expected at least 2, got 1"},
		{map[string]any{"name": "AB"}, `property name validation failed: failed to match pattern "^[a-z]+$" with "AB"`},
		{map[string]any{"name": "ab", "n": float64(11)}, "property n validation failed: expected 11 to be at most 10"},
		{map[string]any{"name": "ab", "n": 1.5}, "property n validation failed: wrong type: expected integer, got number"},
		{map[string]any{"name": "ab", "tags": []any{"x", "x"}}, "property tags validation failed: expected unique items but items 1 and 2 are equal"},
		{map[string]any{"name": "ab", "other": true}, "additional properties forbidden, found other"},
		{"str", "wrong type: expected object, got string"},
	} {
		if got := jsonValidate(c.v, obj); got != c.want {
			t.Errorf("%v: got %q, want %q", c.v, got, c.want)
		}
	}
}

// A keyword outside the checked subset is refused, at any depth, rather
// than ignored: ignoring patternProperties or $ref would accept values
// that Kong's validator refuses.
func TestJSONSchemaRejectsUnsupportedKeywords(t *testing.T) {
	for _, s := range []map[string]any{
		{"type": "object", "patternProperties": map[string]any{"^x": map[string]any{"type": "string"}}},
		{"$ref": "#/definitions/a", "definitions": map[string]any{}},
		{"type": "object", "properties": map[string]any{"a": map[string]any{"format": "email"}}},
		{"type": "array", "items": map[string]any{"dependencies": map[string]any{}}},
	} {
		v := any(map[string]any{"a": "x"})
		if s["type"] == "array" {
			v = []any{map[string]any{"a": "x"}}
		}
		got := jsonValidate(v, s)
		if got == "" || !strings.Contains(got, "unsupported JSON schema keyword: ") {
			t.Errorf("%v: got %q, want an unsupported-keyword error", s, got)
		}
	}
	f := &Field{Name: "j", Type: TypeJSON, JSONSchema: map[string]any{
		"inline": map[string]any{"type": "object", "propertyNames": map[string]any{"maxLength": float64(3)}}}}
	if got := validateJSONField(f, "j", map[string]any{"j": map[string]any{"long-name": true}}); got != "unsupported JSON schema keyword: propertyNames" {
		t.Errorf("validateJSONField: %v", got)
	}
}
