package schema

import (
	"fmt"
	"sort"
	"strings"
)

// Building the Go model from a definition in the value model: the Lua
// table of a schema.lua / daos.lua entry converted by the host (tables to
// map[string]any / []any, functions to *Func). Definition errors use the
// metaschema's messages, keyed as Kong keys them.

// fieldAttrs are the field attributes the MetaSchema accepts (the union
// over Kong 2.8–3.10, see KONG-REFERENCE §11.1).
var fieldAttrs = map[string]bool{
	"type": true, "required": true, "unique": true, "unique_across_ws": true, "immutable": true,
	"auto": true, "abstract": true, "transient": true, "referenceable": true, "encrypted": true,
	"nilable": true, "timestamp": true, "uuid": true, "is_regex": true, "default": true,
	"reference": true, "on_delete": true, "elements": true, "keys": true, "values": true,
	"fields": true, "eq": true, "ne": true, "not_one_of": true, "one_of": true, "gt": true,
	"between": true, "len_eq": true, "len_min": true, "len_max": true, "starts_with": true,
	"not_match": true, "match_none": true, "match": true, "match_all": true, "match_any": true,
	"contains": true, "custom_validator": true, "mutually_exclusive_subsets": true, "err": true,
	"entity_checks": true, "shorthand_fields": true, "description": true, "examples": true,
	"deprecation": true, "json_schema": true, "generate_admin_api": true, "legacy": true,
}

// FieldFromMap builds a field from its definition table. With base, the
// result starts as a copy of base and the table's attributes override it
// (how Kong reads a conditional's if_match over the schema field).
func FieldFromMap(name string, def map[string]any, base *Field) (*Field, error) {
	var f Field
	if base != nil {
		f = *base
		f.record = nil
	}
	f.Name = name
	if base != nil && name == "" {
		f.Name = base.Name
	}
	var errs []string
	bad := func(attr, msg string) { errs = append(errs, attr+": "+msg) }
	num := func(attr string, v any) *float64 {
		n, ok := toFloat(v)
		if !ok {
			bad(attr, MsgNumber)
			return nil
		}
		return &n
	}
	intp := func(attr string, v any) *int {
		n, ok := toFloat(v)
		if !ok || n != float64(int(n)) {
			bad(attr, MsgInteger)
			return nil
		}
		i := int(n)
		return &i
	}
	strp := func(attr string, v any) *string {
		s, ok := v.(string)
		if !ok {
			bad(attr, MsgString)
			return nil
		}
		return &s
	}
	sub := func(attr string, v any) *Field {
		m, ok := asTable(v)
		if !ok {
			bad(attr, MsgRecord)
			return nil
		}
		sf, err := FieldFromMap("", m, nil)
		if err != nil {
			bad(attr, err.Error())
		}
		return sf
	}
	for _, k := range sortedMapKeys(def) {
		v := def[k]
		if IsNull(v) && k != "default" && k != "eq" && k != "ne" && k != "contains" {
			continue // an explicit null attribute is an absent one
		}
		switch k {
		case "type":
			if s, ok := v.(string); ok {
				f.Type = Type(s)
			} else {
				bad(k, MsgString)
			}
		case "required":
			f.Required, f.RequiredSet = truthy(v), true
		case "unique":
			f.Unique = truthy(v)
		case "unique_across_ws":
			f.UniqueAcrossWS = truthy(v)
		case "immutable":
			f.Immutable = truthy(v)
		case "auto":
			f.Auto = truthy(v)
		case "abstract":
			f.Abstract = truthy(v)
		case "transient":
			f.Transient = truthy(v)
		case "referenceable":
			f.Referenceable = truthy(v)
		case "encrypted":
			f.Encrypted = truthy(v)
		case "nilable":
			f.Nilable = truthy(v)
		case "timestamp":
			f.Timestamp = truthy(v)
		case "uuid":
			f.UUID = truthy(v)
		case "is_regex":
			f.IsRegex = truthy(v)
		case "legacy", "generate_admin_api":
			if k == "generate_admin_api" {
				b := truthy(v)
				f.GenerateAdminAPI = &b
			}
		case "default":
			f.Default, f.HasDefault = v, true
		case "reference":
			if s := strp(k, v); s != nil {
				f.Reference = *s
			}
		case "on_delete":
			if s := strp(k, v); s != nil {
				f.OnDelete = *s
			}
		case "elements":
			f.Elements = sub(k, v)
		case "keys":
			f.Keys = sub(k, v)
		case "values":
			f.Values = sub(k, v)
		case "fields":
			fs, err := FieldsFromList(v)
			if err != nil {
				bad(k, err.Error())
			}
			f.Fields = fs
		case "eq":
			f.Eq, f.HasEq = v, true
		case "ne":
			f.Ne, f.HasNe = v, true
		case "contains":
			f.Contains, f.HasContains = v, true
		case "not_one_of":
			f.NotOneOf, _ = asArray(v)
			if f.NotOneOf == nil {
				f.NotOneOf = []any{}
			}
		case "one_of":
			f.OneOf, _ = asArray(v)
			if f.OneOf == nil {
				f.OneOf = []any{}
			}
		case "gt":
			f.Gt = num(k, v)
		case "between":
			arr, ok := asArray(v)
			if !ok || len(arr) != 2 {
				bad(k, "expected an array of 2 numbers")
				break
			}
			lo, ok1 := toFloat(arr[0])
			hi, ok2 := toFloat(arr[1])
			if !ok1 || !ok2 {
				bad(k, MsgNumber)
				break
			}
			f.Between = &[2]float64{lo, hi}
		case "len_eq":
			f.LenEq = intp(k, v)
		case "len_min":
			f.LenMin = intp(k, v)
		case "len_max":
			f.LenMax = intp(k, v)
		case "starts_with":
			f.StartsWith = strp(k, v)
		case "not_match":
			f.NotMatch = strp(k, v)
		case "match":
			f.Match = strp(k, v)
		case "match_none", "match_all":
			arr, _ := asArray(v)
			rules := []MatchRule{}
			for _, e := range arr {
				m, _ := e.(map[string]any)
				p, _ := m["pattern"].(string)
				msg, _ := m["err"].(string)
				rules = append(rules, MatchRule{Pattern: p, Err: msg})
			}
			if k == "match_none" {
				f.MatchNone = rules
			} else {
				f.MatchAll = rules
			}
		case "match_any":
			m, _ := asTable(v)
			ma := &MatchAny{Patterns: stringList(m["patterns"])}
			ma.Err, _ = m["err"].(string)
			f.MatchAny = ma
		case "custom_validator":
			switch fn := v.(type) {
			case *Func:
				// a typedef's builtin marker runs as Go, without a runner
				if nv := BuiltinValidatorFor(fn); nv != nil {
					f.NativeValidator = nv
				} else {
					f.CustomValidator = fn
				}
			case NativeValidatorFunc:
				f.NativeValidator = fn
			case func(any) (bool, string):
				f.NativeValidator = fn
			default:
				bad(k, MsgFunc)
			}
		case "mutually_exclusive_subsets":
			arr, _ := asArray(v)
			f.MutuallyExclusiveSubsets = [][]string{}
			for _, e := range arr {
				f.MutuallyExclusiveSubsets = append(f.MutuallyExclusiveSubsets, stringList(e))
			}
		case "err":
			if s := strp(k, v); s != nil {
				f.Err = *s
			}
		case "entity_checks":
			ecs, err := EntityChecksFromList(v)
			if err != nil {
				bad(k, err.Error())
			}
			f.EntityChecks = ecs
		case "shorthand_fields":
			sfs, err := ShorthandFieldsFromList(v)
			if err != nil {
				bad(k, err.Error())
			}
			f.ShorthandFields = sfs
		case "description":
			f.Description, _ = v.(string)
		case "examples":
			f.Examples, _ = asArray(v)
		case "deprecation":
			f.Deprecation, _ = asTable(v)
		case "json_schema":
			f.JSONSchema, _ = asTable(v)
		default:
			bad(k, MsgUnknown)
		}
	}
	if len(errs) > 0 {
		return &f, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return &f, nil
}

// FieldsFromList reads Kong's fields array of single-key tables
// ({ { name = def }, ... }).
func FieldsFromList(v any) ([]*Field, error) {
	arr, ok := asArray(v)
	if !ok {
		return nil, fmt.Errorf("'fields' must be a table")
	}
	out := make([]*Field, 0, len(arr))
	var errs []string
	for i, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Sprintf("%d: each entry in fields must be a sub-table", i+1))
			continue
		}
		if len(m) != 1 {
			errs = append(errs, fmt.Sprintf("%d: field entry table is empty", i+1))
			continue
		}
		for name, d := range m {
			dm, ok := d.(map[string]any)
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: each entry in fields must be a sub-table", name))
				continue
			}
			f, err := FieldFromMap(name, dm, nil)
			if err != nil {
				errs = append(errs, name+": "+err.Error())
			}
			out = append(out, f)
		}
	}
	if errs != nil {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// EntityChecksFromList reads entity_checks ({ { checker = arg }, ... }).
func EntityChecksFromList(v any) ([]EntityCheck, error) {
	arr, ok := asArray(v)
	if !ok {
		return nil, fmt.Errorf("'entity_checks' must be a table")
	}
	var out []EntityCheck
	var errs []string
	for _, e := range arr {
		m, ok := e.(map[string]any)
		if !ok || len(m) != 1 {
			errs = append(errs, "each entity check must be a table with one checker")
			continue
		}
		for name, arg := range m {
			if !IsEntityChecker(name) {
				errs = append(errs, name+": "+MsgUnknown)
				continue
			}
			out = append(out, EntityCheck{Name: name, Arg: arg})
		}
	}
	if errs != nil {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// ShorthandFieldsFromList reads shorthand_fields ({ { name = { type=...,
// func=fn, translate_backwards=... } }, ... }).
func ShorthandFieldsFromList(v any) ([]*ShorthandField, error) {
	arr, ok := asArray(v)
	if !ok {
		return nil, fmt.Errorf("'shorthand_fields' must be a table")
	}
	var out []*ShorthandField
	var errs []string
	for _, e := range arr {
		m, ok := e.(map[string]any)
		if !ok || len(m) != 1 {
			errs = append(errs, "each entry in shorthand_fields must be a sub-table")
			continue
		}
		for name, d := range m {
			dm, _ := d.(map[string]any)
			def := map[string]any{}
			sf := &ShorthandField{}
			for k, x := range dm {
				switch k {
				case "func":
					sf.Func, _ = x.(*Func)
				case "translate_backwards":
					sf.TranslateBackwards = stringList(x)
				default:
					def[k] = x
				}
			}
			if sf.Func == nil {
				errs = append(errs, name+": func: "+MsgRequired)
			}
			f, err := FieldFromMap(name, def, nil)
			if err != nil {
				errs = append(errs, name+": "+err.Error())
			}
			sf.Field = f
			out = append(out, sf)
		}
	}
	if errs != nil {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// SchemaFromMap builds a schema from its definition table (an entity of
// daos.lua or a plugin's schema.lua). Unknown top-level keys and field
// attributes are errors, as the MetaSchema's "unknown field".
func SchemaFromMap(def map[string]any) (*Schema, error) {
	s := &Schema{DBExport: true, GenerateAdminAPI: true}
	var errs []string
	bad := func(k, msg string) { errs = append(errs, k+": "+msg) }
	str := func(k string, v any) string {
		x, ok := v.(string)
		if !ok {
			bad(k, MsgString)
		}
		return x
	}
	for _, k := range sortedMapKeys(def) {
		v := def[k]
		switch k {
		case "name":
			s.Name = str(k, v)
		case "primary_key":
			s.PrimaryKey = stringList(v)
		case "workspaceable":
			s.Workspaceable = truthy(v)
		case "endpoint_key":
			s.EndpointKey = str(k, v)
		case "cache_key":
			s.CacheKey = stringList(v)
		case "ttl":
			s.TTL = truthy(v)
		case "db_export":
			s.DBExport = truthy(v)
		case "subschema_key":
			s.SubschemaKey = str(k, v)
		case "subschema_error":
			s.SubschemaError = str(k, v)
		case "generate_admin_api":
			s.GenerateAdminAPI = truthy(v)
		case "admin_api_name":
			s.AdminAPIName = str(k, v)
		case "admin_api_nested_name":
			s.AdminAPINestedName = str(k, v)
		case "table_name":
			s.TableName = str(k, v)
		case "dao":
			s.DAO = str(k, v)
		case "fields":
			fs, err := FieldsFromList(v)
			if err != nil {
				bad(k, err.Error())
			}
			s.Fields = fs
		case "entity_checks":
			ecs, err := EntityChecksFromList(v)
			if err != nil {
				bad(k, err.Error())
			}
			s.EntityChecks = ecs
		case "shorthand_fields":
			sfs, err := ShorthandFieldsFromList(v)
			if err != nil {
				bad(k, err.Error())
			}
			s.ShorthandFields = sfs
		case "transformations":
			arr, _ := asArray(v)
			for i, e := range arr {
				m, _ := e.(map[string]any)
				t := Transformation{Input: stringList(m["input"]), Needs: stringList(m["needs"])}
				t.OnWrite, _ = m["on_write"].(*Func)
				t.OnRead, _ = m["on_read"].(*Func)
				if t.OnWrite == nil && t.OnRead == nil {
					bad(fmt.Sprintf("transformations.%d", i+1), "at least one of these fields must be non-empty: 'on_write', 'on_read'")
				}
				s.Transformations = append(s.Transformations, t)
			}
		case "check":
			s.Check, _ = v.(*Func)
		case "shorthands": // 2.8: { { name = fn }, ... }
			arr, _ := asArray(v)
			for _, e := range arr {
				em, _ := e.(map[string]any)
				for _, name := range sortedMapKeys(em) {
					fn, ok := em[name].(*Func)
					if !ok {
						bad(k, MsgFunc)
						continue
					}
					s.ShorthandFields = append(s.ShorthandFields,
						&ShorthandField{Field: &Field{Name: name, Type: TypeAny}, Func: fn, Legacy: true})
				}
			}
		case "legacy":
			// 2.8 only; accepted and ignored
		default:
			bad(k, MsgUnknown)
		}
	}
	if def["fields"] == nil {
		errs = append(errs, "error in schema definition: no 'fields' table")
	}
	if errs != nil {
		sort.Strings(errs)
		return s, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return s, nil
}
