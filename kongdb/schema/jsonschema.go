package schema

import (
	"fmt"
	"math"
	"regexp"
	"unicode/utf8"
)

// `json` fields (Kong 3.5+) carry json_schema = { inline = <JSON schema> }
// or a dynamic schema looked up by namespace (Kong registers those for
// proxy-wasm filters). Kong validates with lua-resty-ljsonschema (draft
// 4); this is a subset of draft 4: type, enum, const, properties,
// required, additionalProperties, items, min/maxItems, uniqueItems,
// min/maxLength, pattern, minimum/maximum (and exclusive forms),
// multipleOf, min/maxProperties, allOf/anyOf/oneOf/not. Messages follow
// ljsonschema's wording where known. A keyword outside the subset is an
// error, not ignored: a schema that says more than is checked would
// accept values Kong refuses.

// validateJSONField is Kong's validate_json_field. Dynamic schemas (by
// namespace) are not registered here: only a json_schema.default applies.
func validateJSONField(f *Field, name string, input map[string]any) any {
	js := f.JSONSchema
	if js == nil {
		return nil
	}
	if inline, ok := asTable(js["inline"]); ok {
		if msg := jsonValidate(input[name], inline); msg != "" {
			return msg
		}
		return nil
	}
	parentKey, _ := js["parent_subschema_key"].(string)
	optional := truthy(js["optional"])
	if key, ok := input[parentKey].(string); ok {
		ns, _ := js["namespace"].(string)
		if def, ok := asTable(js["default"]); ok {
			if msg := jsonValidate(input[name], def); msg != "" {
				return msg
			}
			return nil
		}
		if !optional {
			return fmt.Sprintf("mandatory json schema for field (%s) not found", ns+"/"+key)
		}
		return nil
	}
	if !optional {
		return fmt.Sprintf("validation of %s depends on the parent attribute %s, but it is not set", name, parentKey)
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil, NullType:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any, []string:
		return "array"
	case map[string]any:
		return "object"
	}
	if f, ok := toFloat(v); ok {
		if f == math.Trunc(f) && !math.IsInf(f, 0) {
			return "integer"
		}
		return "number"
	}
	return "unknown"
}

func jsonTypeMatches(v any, want string) bool {
	got := jsonType(v)
	switch want {
	case got:
		return true
	case "number":
		return got == "integer"
	case "array":
		m, ok := v.(map[string]any)
		return ok && len(m) == 0 // an empty Lua table
	case "object":
		arr, ok := v.([]any)
		return ok && len(arr) == 0
	}
	return false
}

// jsonKeywords are the keywords jsonValidate checks, and the annotations
// that check nothing in draft 4 either.
var jsonKeywords = map[string]bool{
	"type": true, "enum": true, "const": true, "properties": true, "required": true,
	"additionalProperties": true, "items": true, "minItems": true, "maxItems": true,
	"uniqueItems": true, "minLength": true, "maxLength": true, "pattern": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"multipleOf": true, "minProperties": true, "maxProperties": true,
	"allOf": true, "anyOf": true, "oneOf": true, "not": true,
	// annotations
	"$schema": true, "id": true, "$id": true, "title": true, "description": true,
	"default": true, "examples": true, "$comment": true,
}

// unsupportedKeyword returns the first (sorted) keyword of s that
// jsonValidate does not check, or "".
func unsupportedKeyword(s map[string]any) string {
	for _, k := range sortedMapKeys(s) {
		if !jsonKeywords[k] {
			return k
		}
	}
	return ""
}

// jsonValidate returns "" when v matches schema s, else the first error.
func jsonValidate(v any, s map[string]any) string {
	if k := unsupportedKeyword(s); k != "" {
		return "unsupported JSON schema keyword: " + k
	}
	if t, ok := s["type"]; ok {
		types := stringList(t)
		matched := false
		for _, want := range types {
			if jsonTypeMatches(v, want) {
				matched = true
				break
			}
		}
		if !matched && len(types) > 0 {
			want := types[0]
			if len(types) > 1 {
				want = luaConcat(strsToAny(types), ", ")
			}
			return fmt.Sprintf("wrong type: expected %s, got %s", want, jsonType(v))
		}
	}
	if e, ok := asArray(s["enum"]); ok {
		found := false
		for _, o := range e {
			if DeepEqual(o, v) {
				found = true
				break
			}
		}
		if !found {
			return "matches none of the enum values"
		}
	}
	if c, ok := s["const"]; ok && !DeepEqual(c, v) {
		return "wrong value: expected " + LuaToString(c)
	}
	switch x := v.(type) {
	case string:
		n := utf8.RuneCountInString(x)
		if min, ok := toFloat(s["minLength"]); ok && float64(n) < min {
			return fmt.Sprintf("string too short, expected at least %s, got %d", formatNumber(min), n)
		}
		if max, ok := toFloat(s["maxLength"]); ok && float64(n) > max {
			return fmt.Sprintf("string too long, expected at most %s, got %d", formatNumber(max), n)
		}
		if p, ok := s["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(x) {
				return fmt.Sprintf("failed to match pattern %q with %q", p, x)
			}
		}
	case map[string]any:
		if msg := jsonObject(x, s); msg != "" {
			return msg
		}
	case []any:
		if msg := jsonArray(x, s); msg != "" {
			return msg
		}
	}
	if n, ok := toFloat(v); ok {
		if min, ok := toFloat(s["minimum"]); ok {
			if truthy(s["exclusiveMinimum"]) && n <= min || n < min {
				return fmt.Sprintf("expected %s to be at least %s", formatNumber(n), formatNumber(min))
			}
		}
		if max, ok := toFloat(s["maximum"]); ok {
			if truthy(s["exclusiveMaximum"]) && n >= max || n > max {
				return fmt.Sprintf("expected %s to be at most %s", formatNumber(n), formatNumber(max))
			}
		}
		if mo, ok := toFloat(s["multipleOf"]); ok && mo != 0 && math.Mod(n, mo) != 0 {
			return fmt.Sprintf("expected %s to be a multiple of %s", formatNumber(n), formatNumber(mo))
		}
	}
	if all, ok := asArray(s["allOf"]); ok {
		for i, sub := range all {
			sm, _ := asTable(sub)
			if msg := jsonValidate(v, sm); msg != "" {
				return fmt.Sprintf("allOf %d failed: %s", i+1, msg)
			}
		}
	}
	if anyOf, ok := asArray(s["anyOf"]); ok {
		matched := false
		for _, sub := range anyOf {
			sm, _ := asTable(sub)
			if jsonValidate(v, sm) == "" {
				matched = true
				break
			}
		}
		if !matched {
			return "object matches none of the required"
		}
	}
	if oneOf, ok := asArray(s["oneOf"]); ok {
		n := 0
		for _, sub := range oneOf {
			sm, _ := asTable(sub)
			if jsonValidate(v, sm) == "" {
				n++
			}
		}
		if n != 1 {
			return fmt.Sprintf("value should match only one schema, but matches %d", n)
		}
	}
	if not, ok := asTable(s["not"]); ok && jsonValidate(v, not) == "" {
		return "value wasn't supposed to match schema"
	}
	return ""
}

func jsonObject(x map[string]any, s map[string]any) string {
	if req, ok := asArray(s["required"]); ok {
		for _, r := range req {
			name, _ := r.(string)
			if _, present := x[name]; !present {
				return fmt.Sprintf("property %s is required", name)
			}
		}
	}
	if min, ok := toFloat(s["minProperties"]); ok && float64(len(x)) < min {
		return fmt.Sprintf("expect object to have at least %s properties", formatNumber(min))
	}
	if max, ok := toFloat(s["maxProperties"]); ok && float64(len(x)) > max {
		return fmt.Sprintf("expect object to have at most %s properties", formatNumber(max))
	}
	props, _ := asTable(s["properties"])
	for _, k := range sortedMapKeys(x) {
		if ps, ok := asTable(props[k]); ok {
			if msg := jsonValidate(x[k], ps); msg != "" {
				return fmt.Sprintf("property %s validation failed: %s", k, msg)
			}
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case bool:
			if !ap {
				return fmt.Sprintf("additional properties forbidden, found %s", k)
			}
		case map[string]any:
			if msg := jsonValidate(x[k], ap); msg != "" {
				return fmt.Sprintf("property %s validation failed: %s", k, msg)
			}
		}
	}
	return ""
}

func jsonArray(x []any, s map[string]any) string {
	if min, ok := toFloat(s["minItems"]); ok && float64(len(x)) < min {
		return fmt.Sprintf("expect array to have at least %s items", formatNumber(min))
	}
	if max, ok := toFloat(s["maxItems"]); ok && float64(len(x)) > max {
		return fmt.Sprintf("expect array to have at most %s items", formatNumber(max))
	}
	if truthy(s["uniqueItems"]) {
		for i := range x {
			for j := i + 1; j < len(x); j++ {
				if DeepEqual(x[i], x[j]) {
					return fmt.Sprintf("expected unique items but items %d and %d are equal", i+1, j+1)
				}
			}
		}
	}
	switch items := s["items"].(type) {
	case map[string]any:
		for i, e := range x {
			if msg := jsonValidate(e, items); msg != "" {
				return fmt.Sprintf("failed to validate item %d: %s", i+1, msg)
			}
		}
	case []any:
		for i, e := range x {
			if i >= len(items) {
				break
			}
			sm, _ := asTable(items[i])
			if msg := jsonValidate(e, sm); msg != "" {
				return fmt.Sprintf("failed to validate item %d: %s", i+1, msg)
			}
		}
	}
	return ""
}
