package schema

import (
	"fmt"
	"net/url"
	"sort"
)

// Legacy (0.x / 1.x) plugin config schemas: a schema.lua table without a
// `name`, whose `fields` is a map name -> old-style field. Kong 1.0–2.8
// converted them at load time (kong/db/schema/plugin_loader.lua
// convert_legacy_schema); 3.0 rejects them. luahost keeps converting, so
// one plugin codebase runs whatever generation it was written for.

// IsLegacySchema reports whether a plugin config schema definition is in
// the old format (no name).
func IsLegacySchema(def map[string]any) bool {
	_, named := def["name"]
	return !named
}

// ConvertLegacySchema turns an old-format plugin config schema into a
// new-format definition (value model) for SchemaFromMap: its fields go
// under a required `config` record; url -> string with a URL check,
// table -> record (or map when the sub-schema is `flexible`; a table with
// no sub-schema is a map of strings), array -> array of strings, string ->
// string allowing "", timestamp -> number (timestamp), enum -> one_of,
// default/required/unique kept, immutable and func dropped, new_type
// replaces the field, no_consumer/no_route/no_service -> scope fields.
// Errors read as Kong's: "failed converting legacy schema for <name>: ...".
func ConvertLegacySchema(name string, old map[string]any) (map[string]any, error) {
	out, err := convertLegacy(name, old)
	if err != nil {
		return nil, fmt.Errorf("failed converting legacy schema for %s: %w", name, err)
	}
	return out, nil
}

func convertLegacy(name string, old map[string]any) (map[string]any, error) {
	cfgFields := []any{}
	oldFields, _ := asTable(old["fields"])
	for _, fname := range sortedMapKeys(oldFields) {
		ofd, _ := asTable(oldFields[fname])
		nfd := map[string]any{}
		var newField any = nfd
		elements := map[string]any{}
		keys := sortedMapKeys(ofd)
		// type first: other attributes depend on it, as in Kong's pairs()
		// walk (which sees them in hash order; the outcome is the same)
		sort.SliceStable(keys, func(i, j int) bool { return keys[i] == "type" && keys[j] != "type" })
	attrs:
		for _, k := range keys {
			v := ofd[k]
			switch k {
			case "type":
				t, _ := v.(string)
				switch t {
				case "url":
					nfd["type"] = "string"
					nfd["custom_validator"] = NativeValidatorFunc(validLegacyURL)
				case "table":
					sub, _ := asTable(ofd["schema"])
					if sub != nil && truthy(sub["flexible"]) {
						nfd["type"] = "map"
					} else {
						nfd["type"] = "record"
						if _, set := nfd["required"]; !set {
							nfd["required"] = true
						}
					}
				case "array":
					nfd["type"] = "array"
					elements["type"] = "string"
				case "timestamp":
					nfd["type"] = "number"
					nfd["timestamp"] = true
				case "string":
					nfd["type"] = "string"
					nfd["len_min"] = 0.0
				case "number", "boolean":
					nfd["type"] = t
				default:
					return nil, fmt.Errorf("unkown legacy field type: %s", LuaToString(v)) // sic, Kong's spelling
				}
			case "schema":
				sub, _ := asTable(v)
				conv, err := convertLegacy("fields", sub)
				if err != nil {
					return nil, err
				}
				rfields := conv["fields"].([]any)[0].(map[string]any)["config"].(map[string]any)["fields"].([]any)
				if truthy(sub["flexible"]) {
					nfd["keys"] = map[string]any{"type": "string"}
					nfd["values"] = map[string]any{"type": "record", "required": true, "fields": rfields}
				} else {
					nfd["fields"] = rfields
					rdefault := map[string]any{}
					for _, rf := range rfields {
						for rn, rd := range rf.(map[string]any) {
							if d, ok := rd.(map[string]any); ok && truthy(d["default"]) {
								rdefault[rn] = d["default"]
							}
						}
					}
					if len(rdefault) > 0 {
						nfd["default"] = rdefault
					}
				}
			case "immutable", "func":
				// Kong ignores immutable and drops func
			case "enum":
				if ofd["type"] == "array" {
					elements["one_of"] = v
				} else {
					nfd["one_of"] = v
				}
			case "default", "required", "unique":
				nfd[k] = v
			case "new_type":
				newField = v
				break attrs
			default:
				return nil, fmt.Errorf("unknown legacy field attribute: %q", k)
			}
		}
		if nfd["type"] == "array" {
			nfd["elements"] = elements
		}
		if (nfd["type"] == "map" && nfd["keys"] == nil) || (nfd["type"] == "record" && nfd["fields"] == nil) {
			nfd["type"] = "map"
			nfd["keys"] = map[string]any{"type": "string"}
			nfd["values"] = map[string]any{"type": "string"}
		}
		if nfd["type"] == nil {
			nfd["type"] = "string"
		}
		cfgFields = append(cfgFields, map[string]any{fname: newField})
	}
	def := map[string]any{
		"name": name,
		"fields": []any{map[string]any{"config": map[string]any{
			"type": "record", "required": true, "fields": cfgFields,
		}}},
	}
	if ec, ok := old["entity_checks"]; ok {
		def["entity_checks"] = ec
	}
	fs := def["fields"].([]any)
	for _, scope := range []struct{ flag, field, ref string }{
		{"no_route", "route", "routes"}, {"no_service", "service", "services"}, {"no_consumer", "consumer", "consumers"},
	} {
		if truthy(old[scope.flag]) {
			fs = append(fs, map[string]any{scope.field: map[string]any{"type": "foreign", "reference": scope.ref, "eq": Null}})
		}
	}
	def["fields"] = fs
	return def, nil
}

// NativeValidatorFunc is a Go validator placed in a definition table's
// custom_validator slot; FieldFromMap makes it the field's NativeValidator.
type NativeValidatorFunc func(v any) (ok bool, msg string)

// validLegacyURL is Kong's legacy url check: parseable, with scheme and
// host.
func validLegacyURL(v any) (bool, string) {
	s, ok := v.(string)
	if !ok {
		return false, ""
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != "", ""
}
