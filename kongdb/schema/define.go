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

// fieldReader reads a field definition attribute by attribute, collecting
// "<attr>: <message>" errors.
type fieldReader struct {
	f    Field
	errs []string
}

func (r *fieldReader) bad(attr, msg string) { r.errs = append(r.errs, attr+": "+msg) }

func (r *fieldReader) num(attr string, v any) *float64 {
	n, ok := toFloat(v)
	if !ok {
		r.bad(attr, MsgNumber)
		return nil
	}
	return &n
}

func (r *fieldReader) intp(attr string, v any) *int {
	n, ok := toFloat(v)
	if !ok || n != float64(int(n)) {
		r.bad(attr, MsgInteger)
		return nil
	}
	i := int(n)
	return &i
}

func (r *fieldReader) strp(attr string, v any) *string {
	s, ok := v.(string)
	if !ok {
		r.bad(attr, MsgString)
		return nil
	}
	return &s
}

func (r *fieldReader) sub(attr string, v any) *Field {
	m, ok := asTable(v)
	if !ok {
		r.bad(attr, MsgRecord)
		return nil
	}
	sf, err := FieldFromMap("", m, nil)
	if err != nil {
		r.bad(attr, err.Error())
	}
	return sf
}

// flag reads the boolean attributes and the default.
func (r *fieldReader) flag(k string, v any) bool {
	switch k {
	case "required":
		r.f.Required, r.f.RequiredSet = truthy(v), true
	case "unique":
		r.f.Unique = truthy(v)
	case "unique_across_ws":
		r.f.UniqueAcrossWS = truthy(v)
	case "immutable":
		r.f.Immutable = truthy(v)
	case "auto":
		r.f.Auto = truthy(v)
	case "abstract":
		r.f.Abstract = truthy(v)
	case "transient":
		r.f.Transient = truthy(v)
	case "referenceable":
		r.f.Referenceable = truthy(v)
	case "encrypted":
		r.f.Encrypted = truthy(v)
	case "nilable":
		r.f.Nilable = truthy(v)
	case "timestamp":
		r.f.Timestamp = truthy(v)
	case "uuid":
		r.f.UUID = truthy(v)
	case "is_regex":
		r.f.IsRegex = truthy(v)
	case "legacy", "generate_admin_api":
		if k == "generate_admin_api" {
			b := truthy(v)
			r.f.GenerateAdminAPI = &b
		}
	case "default":
		r.f.Default, r.f.HasDefault = v, true
	default:
		return false
	}
	return true
}

// structure reads the type and the attributes that shape the value (elements, keys, values, fields, foreign reference, entity checks, shorthands).
func (r *fieldReader) structure(k string, v any) bool {
	switch k {
	case "type":
		if s, ok := v.(string); ok {
			r.f.Type = Type(s)
		} else {
			r.bad(k, MsgString)
		}
	case "reference":
		if s := r.strp(k, v); s != nil {
			r.f.Reference = *s
		}
	case "on_delete":
		if s := r.strp(k, v); s != nil {
			r.f.OnDelete = *s
		}
	case "elements":
		r.f.Elements = r.sub(k, v)
	case "keys":
		r.f.Keys = r.sub(k, v)
	case "values":
		r.f.Values = r.sub(k, v)
	case "fields":
		fs, err := FieldsFromList(v)
		if err != nil {
			r.bad(k, err.Error())
		}
		r.f.Fields = fs
	case "entity_checks":
		ecs, err := EntityChecksFromList(v)
		if err != nil {
			r.bad(k, err.Error())
		}
		r.f.EntityChecks = ecs
	case "shorthand_fields":
		sfs, err := ShorthandFieldsFromList(v)
		if err != nil {
			r.bad(k, err.Error())
		}
		r.f.ShorthandFields = sfs
	default:
		return false
	}
	return true
}

// validator reads the validator attributes (Schema.validators).
func (r *fieldReader) validator(k string, v any) bool {
	switch k {
	case "eq":
		r.f.Eq, r.f.HasEq = v, true
	case "ne":
		r.f.Ne, r.f.HasNe = v, true
	case "contains":
		r.f.Contains, r.f.HasContains = v, true
	case "not_one_of":
		r.f.NotOneOf, _ = asArray(v)
		if r.f.NotOneOf == nil {
			r.f.NotOneOf = []any{}
		}
	case "one_of":
		r.f.OneOf, _ = asArray(v)
		if r.f.OneOf == nil {
			r.f.OneOf = []any{}
		}
	case "gt":
		r.f.Gt = r.num(k, v)
	case "between":
		arr, ok := asArray(v)
		if !ok || len(arr) != 2 {
			r.bad(k, "expected an array of 2 numbers")
			return true
		}
		lo, ok1 := toFloat(arr[0])
		hi, ok2 := toFloat(arr[1])
		if !ok1 || !ok2 {
			r.bad(k, MsgNumber)
			return true
		}
		r.f.Between = &[2]float64{lo, hi}
	case "len_eq":
		r.f.LenEq = r.intp(k, v)
	case "len_min":
		r.f.LenMin = r.intp(k, v)
	case "len_max":
		r.f.LenMax = r.intp(k, v)
	case "starts_with":
		r.f.StartsWith = r.strp(k, v)
	case "not_match":
		r.f.NotMatch = r.strp(k, v)
	case "match":
		r.f.Match = r.strp(k, v)
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
			r.f.MatchNone = rules
		} else {
			r.f.MatchAll = rules
		}
	case "match_any":
		m, _ := asTable(v)
		ma := &MatchAny{Patterns: stringList(m["patterns"])}
		ma.Err, _ = m["err"].(string)
		r.f.MatchAny = ma
	case "custom_validator":
		switch fn := v.(type) {
		case *Func:
			// a typedef's builtin marker runs as Go, without a runner
			if nv := BuiltinValidatorFor(fn); nv != nil {
				r.f.NativeValidator = nv
			} else {
				r.f.CustomValidator = fn
			}
		case NativeValidatorFunc:
			r.f.NativeValidator = fn
		case func(any) (bool, string):
			r.f.NativeValidator = fn
		default:
			r.bad(k, MsgFunc)
		}
	case "mutually_exclusive_subsets":
		arr, _ := asArray(v)
		r.f.MutuallyExclusiveSubsets = [][]string{}
		for _, e := range arr {
			r.f.MutuallyExclusiveSubsets = append(r.f.MutuallyExclusiveSubsets, stringList(e))
		}
	default:
		return false
	}
	return true
}

// meta reads err and the documentation attributes.
func (r *fieldReader) meta(k string, v any) bool {
	switch k {
	case "err":
		if s := r.strp(k, v); s != nil {
			r.f.Err = *s
		}
	case "description":
		r.f.Description, _ = v.(string)
	case "examples":
		r.f.Examples, _ = asArray(v)
	case "deprecation":
		r.f.Deprecation, _ = asTable(v)
	case "json_schema":
		r.f.JSONSchema, _ = asTable(v)
	default:
		return false
	}
	return true
}

// FieldFromMap builds a field from its definition table. With base, the
// result starts as a copy of base and the table's attributes override it
// (how Kong reads a conditional's if_match over the schema field).
func FieldFromMap(name string, def map[string]any, base *Field) (*Field, error) {
	r := &fieldReader{}
	if base != nil {
		r.f = *base
		r.f.record = nil
	}
	r.f.Name = name
	if base != nil && name == "" {
		r.f.Name = base.Name
	}
	for _, k := range sortedMapKeys(def) {
		v := def[k]
		if IsNull(v) && k != "default" && k != "eq" && k != "ne" && k != "contains" {
			continue // an explicit null attribute is an absent one
		}
		if !r.flag(k, v) && !r.structure(k, v) && !r.validator(k, v) && !r.meta(k, v) {
			r.bad(k, MsgUnknown)
		}
	}
	f, errs := r.f, r.errs
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
		if ok {
			// a definition the metaschema has already processed (the
			// default of a field, validated against that field) carries
			// its other checkers as nulls
			m = withoutNulls(m)
		}
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

func withoutNulls(m map[string]any) map[string]any {
	for _, v := range m {
		if IsNull(v) {
			out := make(map[string]any, len(m))
			for k, v := range m {
				if !IsNull(v) {
					out[k] = v
				}
			}
			return out
		}
	}
	return m
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
		if ok {
			// a definition the metaschema has already processed (the
			// default of a field, validated against that field) carries
			// its other checkers as nulls
			m = withoutNulls(m)
		}
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
