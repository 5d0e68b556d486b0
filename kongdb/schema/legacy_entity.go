package schema

import (
	"fmt"
	"sort"
	"strings"
)

// Kong 0.x entity schemas (daos.lua as a map, KONG-REFERENCE §9.1):
// `table`, `primary_key`, `fields` as a map name -> field, field types
// id / timestamp / string / number / boolean / url / array / table, and
// dao_insert_value, queryable, foreign = "consumers:id", unique, required,
// default, enum, immutable, regex, func; self_check, marshall_event and
// cache_key at the top. Kong 1.0 dropped them; luahost converts them into
// the same Go schema as a 3.x entity, so the rows share storage, cache and
// events. What the 3.x model cannot say (regex, func, function defaults,
// self_check, marshall_event) stays in Lua: the 0.x DAO
// (host/lua/kong/dao/legacy.lua) runs it from daos.lua.

// IsLegacyEntity reports whether an entity definition of daos.lua is a 0.x
// schema: it names its `table`, or its `fields` is a map rather than an
// array.
func IsLegacyEntity(def map[string]any) bool {
	if _, ok := def["table"]; ok {
		return true
	}
	m, ok := def["fields"].(map[string]any)
	return ok && len(m) > 0
}

// legacyFieldAttrs are the 0.x field attributes; those the Go model has no
// use for are read by the 0.x DAO in Lua.
var legacyFieldAttrs = map[string]bool{
	"type": true, "required": true, "unique": true, "default": true, "immutable": true,
	"enum": true, "regex": true, "func": true, "schema": true, "dao_insert_value": true,
	"queryable": true, "foreign": true,
}

// LegacyForeign splits a 0.x `foreign = "consumers:id"` into the
// referenced table and column.
func LegacyForeign(v any) (table, column string, ok bool) {
	s, isStr := v.(string)
	if !isStr {
		return "", "", false
	}
	table, column, ok = strings.Cut(s, ":")
	return table, column, ok && table != "" && column != ""
}

// LegacyForeignName is the 3.x name of a 0.x foreign field: `consumer_id`
// referencing "consumers:id" becomes the foreign field `consumer`, whose
// column is still consumer_id. It returns "" when the field stays a plain
// column: a reference to another column than id, a field name without the
// _id suffix, or a reference to `apis` (removed in Kong 1.0).
func LegacyForeignName(field string, fd map[string]any) string {
	table, column, ok := LegacyForeign(fd["foreign"])
	if !ok || column != "id" || table == "apis" {
		return ""
	}
	base, cut := strings.CutSuffix(field, "_id")
	if !cut || base == "" {
		return ""
	}
	return base
}

// ConvertLegacyEntity turns a 0.x entity schema (name: its daos.lua key)
// into a 3.x definition for SchemaFromMap. Errors name the field.
func ConvertLegacyEntity(name string, old map[string]any) (map[string]any, error) {
	tname := name
	if t, ok := old["table"].(string); ok && t != "" {
		tname = t
	}
	oldFields, ok := asTable(old["fields"])
	if !ok {
		return nil, fmt.Errorf("fields: expected a map of field definitions")
	}
	pk := stringList(old["primary_key"])
	if len(pk) == 0 {
		if _, hasID := oldFields["id"]; hasID {
			pk = []string{"id"}
		} else {
			return nil, fmt.Errorf("primary_key: required field missing")
		}
	}
	var fields []any
	renamed := map[string]string{}
	for _, fname := range sortedMapKeys(oldFields) {
		ofd, ok := asTable(oldFields[fname])
		if !ok {
			return nil, fmt.Errorf("fields.%s: expected a table", fname)
		}
		nname, nfd, err := convertLegacyEntityField(fname, ofd)
		if err != nil {
			return nil, fmt.Errorf("fields.%s: %w", fname, err)
		}
		if nname != fname {
			renamed[fname] = nname
		}
		fields = append(fields, map[string]any{nname: nfd})
	}
	// Kong 3 lists the primary key first; keep 0.x's pk order, then the
	// rest by name.
	sort.SliceStable(fields, func(i, j int) bool {
		return pkIndex(pk, fields[i]) < pkIndex(pk, fields[j])
	})
	newPK := make([]any, len(pk))
	for i, k := range pk {
		if r, ok := renamed[k]; ok {
			k = r
		}
		newPK[i] = k
	}
	// 0.x generated no Admin API endpoints: a plugin's api.lua made them
	def := map[string]any{"name": tname, "primary_key": newPK, "fields": fields, "generate_admin_api": false}
	// A one-field cache_key that is unique keeps Kong 3's cache keys (and
	// needs no cache_key column in 0.x tables); a compound one is the 0.x
	// DAO's business.
	if ck := stringList(old["cache_key"]); len(ck) == 1 {
		if fd, ok := asTable(oldFields[ck[0]]); ok && truthy(fd["unique"]) {
			def["cache_key"] = []any{ck[0]}
		}
	}
	return def, nil
}

func pkIndex(pk []string, f any) int {
	for k := range f.(map[string]any) {
		for i, p := range pk {
			if p == k {
				return i
			}
		}
	}
	return len(pk)
}

func convertLegacyEntityField(fname string, ofd map[string]any) (string, map[string]any, error) {
	for _, k := range sortedMapKeys(ofd) {
		if !legacyFieldAttrs[k] {
			return "", nil, fmt.Errorf("unknown legacy field attribute: %q", k)
		}
	}
	nfd := map[string]any{}
	typ, _ := ofd["type"].(string)
	if typ == "" {
		typ = "string"
	}
	auto := truthy(ofd["dao_insert_value"])
	switch typ {
	case "id":
		nfd["type"] = "string"
		nfd["uuid"] = true
		if auto {
			nfd["auto"] = true
		}
	case "timestamp":
		// stored as Kong 3 stores timestamps (seconds); the 0.x DAO
		// answers milliseconds, as 0.x did
		nfd["type"] = "integer"
		nfd["timestamp"] = true
		if auto {
			nfd["auto"] = true
		}
	case "string":
		nfd["type"] = "string"
		if !truthy(ofd["required"]) {
			nfd["len_min"] = 0.0
		}
	case "url":
		nfd["type"] = "string"
		nfd["custom_validator"] = NativeValidatorFunc(validLegacyURL)
	case "number", "boolean":
		nfd["type"] = typ
	case "array":
		nfd["type"] = "array"
		elem := map[string]any{"type": "string"}
		if e, ok := ofd["enum"]; ok {
			elem["one_of"] = e
		}
		nfd["elements"] = elem
	case "table":
		nfd["type"] = "map"
		nfd["keys"] = map[string]any{"type": "string"}
		nfd["values"] = map[string]any{"type": "string"}
		if sub, ok := asTable(ofd["schema"]); ok && !truthy(sub["flexible"]) {
			conv, err := convertLegacy("fields", sub)
			if err != nil {
				return "", nil, err
			}
			delete(nfd, "keys")
			delete(nfd, "values")
			nfd["type"] = "record"
			nfd["fields"] = conv["fields"].([]any)[0].(map[string]any)["config"].(map[string]any)["fields"]
		}
	default:
		return "", nil, fmt.Errorf("unkown legacy field type: %s", LuaToString(ofd["type"])) // sic, Kong's spelling
	}
	if truthy(ofd["required"]) {
		nfd["required"] = true
	}
	if truthy(ofd["unique"]) {
		nfd["unique"] = true
	}
	if truthy(ofd["immutable"]) {
		nfd["immutable"] = true
	}
	if e, ok := ofd["enum"]; ok && typ != "array" {
		nfd["one_of"] = e
	}
	if d, ok := ofd["default"]; ok {
		if _, isFn := d.(*Func); !isFn { // a function default runs in the 0.x DAO
			nfd["default"] = d
		}
	}
	if base := LegacyForeignName(fname, ofd); base != "" {
		table, _, _ := LegacyForeign(ofd["foreign"])
		f := map[string]any{"type": "foreign", "reference": table, "on_delete": "cascade"}
		if truthy(ofd["required"]) {
			f["required"] = true
		}
		return base, f, nil
	}
	return fname, nfd, nil
}
