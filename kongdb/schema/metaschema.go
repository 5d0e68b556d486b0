package schema

import (
	"fmt"
	"strings"
)

// The MetaSchema's definition checks (kong/db/schema/metaschema.lua
// check / check_fields / check_field) over the Go model.

// MetaSchema messages.
const (
	MetaAttribute      = "field of type '%s' cannot have attribute '%s'"
	MetaRequired       = "field of type '%s' must declare '%s'"
	MetaTable          = "'%s' must be a table"
	MetaType           = "missing type declaration"
	MetaEndpointKey    = "value must be a field name"
	MetaCacheKey       = "values must be field names"
	MetaCacheKeyUnique = "a field used as a single cache key must be unique"
	MetaTTLReserved    = "ttl is a reserved field name when ttl is enabled"
	MetaSubschemaKey   = "value must be a field name"
	MetaSubschemaType  = "must be a string or set field"
	MetaInvalidField   = "invalid field name: %s"
)

// DefinitionError is an invalid schema definition: Errors is Kong's error
// table (format it with kongdb's SchemaViolation for Kong's text, as Kong
// does when a plugin entity fails the MetaSchema).
type DefinitionError struct {
	Errors map[string]any
}

func (e *DefinitionError) Error() string { return ErrorsToString(e.Errors) }

// CheckDefinition runs the MetaSchema's checks on an entity schema: name
// and primary_key present and naming fields, endpoint_key, cache_key (a
// single cache key must be unique), subschema_key, ttl, transformation
// field names, and per field the type, required attributes (elements,
// keys/values, fields) and type-restricted attributes. It returns nil or a
// *DefinitionError.
func CheckDefinition(s *Schema) error {
	errs := map[string]any{}
	if s.Name == "" {
		errs["name"] = MsgRequired
	}
	if s.PrimaryKey == nil {
		errs["primary_key"] = MsgRequired
	}
	if s.Fields == nil {
		errs["fields"] = LuaFormat(MetaTable, "fields")
		return &DefinitionError{errs}
	}
	byName := map[string]*Field{}
	for _, f := range s.Fields {
		byName[f.Name] = f
	}
	if s.EndpointKey != "" && byName[s.EndpointKey] == nil {
		errs["endpoint_key"] = MetaEndpointKey
	}
	if len(s.CacheKey) > 0 {
		var found *Field
		for _, k := range s.CacheKey {
			found = byName[k]
			if found == nil {
				errs["cache_key"] = MetaCacheKey
				break
			}
		}
		if len(s.CacheKey) == 1 && found != nil && !found.Unique {
			errs["cache_key"] = MetaCacheKeyUnique
		}
	}
	if s.SubschemaKey != "" {
		if f := byName[s.SubschemaKey]; f == nil {
			errs["subschema_key"] = MetaSubschemaKey
		} else if f.Type != TypeString && f.Type != TypeSet {
			errs["subschema_key"] = MetaSubschemaType
		}
	}
	if s.TTL && byName["ttl"] != nil {
		errs["ttl"] = MetaTTLReserved
	}
	checkFields(s, errs)
	if len(errs) > 0 {
		return &DefinitionError{errs}
	}
	return nil
}

// CheckSubschemaDefinition is the MetaSubSchema's check (plugin config
// schemas): a name and the field checks.
func CheckSubschemaDefinition(s *Schema) error {
	errs := map[string]any{}
	if s.Name == "" {
		errs["name"] = MsgRequired
	}
	if s.Fields == nil {
		errs["fields"] = LuaFormat(MetaTable, "fields")
		return &DefinitionError{errs}
	}
	checkFields(s, errs)
	if len(errs) > 0 {
		return &DefinitionError{errs}
	}
	return nil
}

func hasSchemaField(fields []*Field, name string) bool {
	hd, tl, dotted := strings.Cut(name, ".")
	for _, f := range fields {
		if f.Name != hd {
			continue
		}
		if !dotted {
			return true
		}
		if f.Type == TypeForeign {
			return true // the metaschema cannot see foreign schemas
		}
		return hasSchemaField(f.Fields, tl)
	}
	return false
}

func checkFields(s *Schema, errs map[string]any) {
	for i, t := range s.Transformations {
		for j, in := range t.Input {
			if !hasSchemaField(s.Fields, in) {
				setNested(errs, fmt.Sprintf(MetaInvalidField, in), "transformations", "input", itoa(i+1), itoa(j+1))
			}
		}
		for j, n := range t.Needs {
			if !hasSchemaField(s.Fields, n) {
				setNested(errs, fmt.Sprintf(MetaInvalidField, n), "transformations", "needs", itoa(i+1), itoa(j+1))
			}
		}
	}
	for _, f := range s.Fields {
		checkField(f.Name, f, errs)
	}
}

func setNested(m map[string]any, v any, path ...string) {
	for _, p := range path[:len(path)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}

var typeAttrs = map[string]map[Type]bool{
	"between":          {TypeInteger: true, TypeNumber: true},
	"len_eq":           {TypeArray: true, TypeSet: true, TypeString: true, TypeMap: true},
	"match":            {TypeString: true},
	"one_of":           {TypeString: true, TypeNumber: true, TypeInteger: true},
	"contains":         {TypeArray: true, TypeSet: true},
	"is_regex":         {TypeString: true},
	"timestamp":        {TypeNumber: true, TypeInteger: true},
	"uuid":             {TypeString: true},
	"unique":           {TypeString: true, TypeNumber: true, TypeInteger: true, TypeForeign: true},
	"unique_across_ws": {TypeString: true, TypeNumber: true, TypeInteger: true, TypeForeign: true},
	"abstract": {TypeString: true, TypeNumber: true, TypeInteger: true, TypeRecord: true,
		TypeArray: true, TypeSet: true, TypeMap: true},
	"json_schema": {TypeJSON: true},
	"transient": {TypeString: true, TypeNumber: true, TypeInteger: true, TypeArray: true,
		TypeSet: true, TypeBoolean: true},
}

var validTypes = map[Type]bool{TypeString: true, TypeNumber: true, TypeInteger: true,
	TypeBoolean: true, TypeArray: true, TypeSet: true, TypeMap: true, TypeRecord: true,
	TypeForeign: true, TypeFunction: true, TypeJSON: true}

func checkField(k string, f *Field, errs map[string]any) {
	if f.Type == "" {
		errs[k] = MetaType
		return
	}
	if !validTypes[f.Type] {
		errs[k] = map[string]any{"type": "expected one of: " + validTypeList}
		return
	}
	switch f.Type {
	case TypeArray, TypeSet:
		if f.Elements == nil {
			errs[k] = LuaFormat(MetaRequired, string(f.Type), "elements")
		}
	case TypeMap:
		if f.Keys == nil {
			errs[k] = LuaFormat(MetaRequired, string(f.Type), "keys")
		}
		if f.Values == nil {
			errs[k] = LuaFormat(MetaRequired, string(f.Type), "values")
		}
	case TypeRecord:
		if f.Fields == nil && !f.Abstract {
			errs[k] = LuaFormat(MetaRequired, string(f.Type), "fields")
		}
	case TypeJSON:
		if f.JSONSchema == nil {
			errs[k] = LuaFormat(MetaRequired, string(f.Type), "json_schema")
		}
	}
	set := map[string]bool{
		"between": f.Between != nil, "len_eq": f.LenEq != nil, "match": f.Match != nil,
		"one_of": f.OneOf != nil, "contains": f.HasContains, "is_regex": f.IsRegex,
		"timestamp": f.Timestamp, "uuid": f.UUID, "unique": f.Unique,
		"unique_across_ws": f.UniqueAcrossWS, "abstract": f.Abstract,
		"json_schema": f.JSONSchema != nil, "transient": f.Transient,
	}
	for _, attr := range []string{"between", "len_eq", "match", "one_of", "contains", "is_regex",
		"timestamp", "uuid", "unique", "unique_across_ws", "abstract", "json_schema", "transient"} {
		if set[attr] && !typeAttrs[attr][f.Type] {
			errs[k] = LuaFormat(MetaAttribute, string(f.Type), attr)
		}
	}
	if f.UniqueAcrossWS && !f.Unique {
		errs[k] = map[string]any{"unique": MsgRequired,
			"@entity": []any{LuaFormat(MsgConditional, "unique_across_ws")}}
	}
	if f.Description != "" && (len(f.Description) < 10 || len(f.Description) > 500) {
		if len(f.Description) < 10 {
			errs[k] = map[string]any{"description": LuaFormat(MsgLenMin, 10)}
		} else {
			errs[k] = map[string]any{"description": LuaFormat(MsgLenMax, 500)}
		}
	}
	if f.OnDelete != "" && f.OnDelete != "restrict" && f.OnDelete != "cascade" && f.OnDelete != "null" {
		errs[k] = map[string]any{"on_delete": LuaFormat(MsgOneOf, "restrict, cascade, null")}
	}
	for _, sub := range []*Field{f.Elements, f.Keys, f.Values} {
		if sub != nil {
			checkField(k, sub, errs)
		}
	}
	if f.Fields != nil {
		checkFields(&Schema{Fields: f.Fields}, errs)
	}
}

const validTypeList = "array, boolean, foreign, function, integer, json, map, number, record, set, string"

// metaCheck is the MetaSchema's check function over a raw definition.
func metaCheck(def map[string]any) map[string]any {
	errs := map[string]any{}
	fields, ok := asArray(def["fields"])
	if !ok {
		errs["fields"] = LuaFormat(MetaTable, "fields")
		return errs
	}
	fieldDef := func(name string) (map[string]any, bool) {
		for _, item := range fields {
			if m, ok := item.(map[string]any); ok && len(m) == 1 {
				for k, v := range m {
					if k == name {
						d, _ := v.(map[string]any)
						return d, true
					}
				}
			}
		}
		return nil, false
	}
	if ek, ok := def["endpoint_key"].(string); ok {
		if _, found := fieldDef(ek); !found {
			errs["endpoint_key"] = MetaEndpointKey
		}
	}
	if ck, ok := asArray(def["cache_key"]); ok {
		var found map[string]any
		var isField bool
		for _, k := range ck {
			name, _ := k.(string)
			found, isField = fieldDef(name)
			if !isField {
				errs["cache_key"] = MetaCacheKey
				break
			}
		}
		if len(ck) == 1 && isField && !truthy(found["unique"]) {
			errs["cache_key"] = MetaCacheKeyUnique
		}
	}
	if sk, ok := def["subschema_key"].(string); ok {
		if fd, found := fieldDef(sk); !found {
			errs["subschema_key"] = MetaSubschemaKey
		} else if fd["type"] != "string" && fd["type"] != "set" {
			errs["subschema_key"] = MetaSubschemaType
		}
	}
	if truthy(def["ttl"]) {
		if _, found := fieldDef("ttl"); found {
			errs["ttl"] = MetaTTLReserved
		}
	}
	checkRawFields(def, fields, errs)
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// metaSubCheck is the MetaSubSchema's check function.
func metaSubCheck(def map[string]any) map[string]any {
	errs := map[string]any{}
	fields, ok := asArray(def["fields"])
	if !ok {
		errs["fields"] = LuaFormat(MetaTable, "fields")
		return errs
	}
	checkRawFields(def, fields, errs)
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func rawHasField(fields []any, name string) bool {
	hd, tl, dotted := strings.Cut(name, ".")
	for _, item := range fields {
		m, _ := item.(map[string]any)
		fd, ok := m[hd].(map[string]any)
		if !ok {
			continue
		}
		if !dotted {
			return true
		}
		if fd["type"] == "foreign" {
			return true // the metaschema cannot see foreign schemas
		}
		sub, _ := asArray(fd["fields"])
		return rawHasField(sub, tl)
	}
	return false
}

// checkRawFields is Kong's check_fields: transformation names, then each
// field through check_field.
func checkRawFields(def map[string]any, fields []any, errs map[string]any) {
	ts, _ := asArray(def["transformations"])
	for i, t := range ts {
		tm, _ := t.(map[string]any)
		for _, kind := range []string{"input", "needs"} {
			names, _ := asArray(tm[kind])
			for j, n := range names {
				name, _ := n.(string)
				if !rawHasField(fields, name) {
					setNested(errs, fmt.Sprintf(MetaInvalidField, name), "transformations", kind, itoa(i+1), itoa(j+1))
				}
			}
		}
	}
	for _, item := range fields {
		m, ok := item.(map[string]any)
		if !ok {
			errs["fields"] = "each entry in fields must be a sub-table"
			break
		}
		if len(m) == 0 {
			errs["fields"] = "field entry table is empty"
			break
		}
		for k, v := range m {
			fd, ok := v.(map[string]any)
			if !ok {
				errs[k] = LuaFormat(MetaTable, k)
				continue
			}
			checkRawField(k, fd, errs)
		}
	}
}

var requiredAttrs = map[string][]string{
	"array": {"elements"}, "set": {"elements"}, "map": {"keys", "values"},
	"record": {"fields"}, "json": {"json_schema"},
}

func checkRawField(k string, fd map[string]any, errs map[string]any) {
	t, ok := fd["type"].(string)
	if !ok {
		errs[k] = MetaType
		return
	}
	req := requiredAttrs[t]
	if t == "record" && truthy(fd["abstract"]) {
		req = nil
	}
	for _, attr := range req {
		if fd[attr] == nil {
			errs[k] = LuaFormat(MetaRequired, t, attr)
		}
	}
	for _, attr := range sortedMapKeys(fd) {
		if types, restricted := typeAttrs[attr]; restricted && !types[Type(t)] {
			errs[k] = LuaFormat(MetaAttribute, t, attr)
		}
	}
	for _, name := range []string{"elements", "keys", "values"} {
		if v, present := fd[name]; present && v != nil {
			if sub, ok := v.(map[string]any); ok {
				checkRawField(k, sub, errs)
			} else {
				errs[k] = LuaFormat(MetaTable, name)
			}
		}
	}
	if sub, ok := asArray(fd["fields"]); ok && fd["fields"] != nil {
		checkRawFields(fd, sub, errs)
	}
}
