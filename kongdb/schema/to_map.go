package schema

// The reverse of SchemaFromMap: a schema as its definition table (value
// model), for code that hands Lua a `dao.schema` / `schema.fields` to read.
// Go-native validators have no Lua form and are left out.

// ToMap returns the schema's definition table: name, primary_key, fields
// (the array of single-key tables) and every attribute that is set.
func (s *Schema) ToMap() map[string]any {
	m := map[string]any{"name": s.Name, "fields": fieldsToList(s.Fields)}
	if s.PrimaryKey != nil {
		m["primary_key"] = strsToAny(s.PrimaryKey)
	}
	setIf := func(k string, cond bool, v any) {
		if cond {
			m[k] = v
		}
	}
	setIf("workspaceable", s.Workspaceable, true)
	setIf("endpoint_key", s.EndpointKey != "", s.EndpointKey)
	setIf("cache_key", s.CacheKey != nil, strsToAny(s.CacheKey))
	setIf("ttl", s.TTL, true)
	setIf("db_export", !s.DBExport, false)
	setIf("subschema_key", s.SubschemaKey != "", s.SubschemaKey)
	setIf("subschema_error", s.SubschemaError != "", s.SubschemaError)
	setIf("generate_admin_api", !s.GenerateAdminAPI, false)
	setIf("admin_api_name", s.AdminAPIName != "", s.AdminAPIName)
	setIf("admin_api_nested_name", s.AdminAPINestedName != "", s.AdminAPINestedName)
	setIf("table_name", true, s.Table())
	setIf("dao", s.DAO != "", s.DAO)
	setIf("entity_checks", s.EntityChecks != nil, checksToList(s.EntityChecks))
	setIf("shorthand_fields", s.ShorthandFields != nil, shorthandsToList(s.ShorthandFields))
	if s.Transformations != nil {
		ts := make([]any, 0, len(s.Transformations))
		for _, t := range s.Transformations {
			tm := map[string]any{}
			if t.Input != nil {
				tm["input"] = strsToAny(t.Input)
			}
			if t.Needs != nil {
				tm["needs"] = strsToAny(t.Needs)
			}
			if t.OnWrite != nil {
				tm["on_write"] = t.OnWrite
			}
			if t.OnRead != nil {
				tm["on_read"] = t.OnRead
			}
			ts = append(ts, tm)
		}
		m["transformations"] = ts
	}
	setIf("check", s.Check != nil, s.Check)
	return m
}

func fieldsToList(fs []*Field) []any {
	out := make([]any, 0, len(fs))
	for _, f := range fs {
		out = append(out, map[string]any{f.Name: f.ToMap()})
	}
	return out
}

func checksToList(cs []EntityCheck) []any {
	out := make([]any, 0, len(cs))
	for _, c := range cs {
		out = append(out, map[string]any{c.Name: c.Arg})
	}
	return out
}

func shorthandsToList(sfs []*ShorthandField) []any {
	out := make([]any, 0, len(sfs))
	for _, sf := range sfs {
		if sf.Field == nil {
			continue
		}
		d := sf.Field.ToMap()
		if sf.Func != nil {
			d["func"] = sf.Func
		}
		if sf.TranslateBackwards != nil {
			d["translate_backwards"] = strsToAny(sf.TranslateBackwards)
		}
		out = append(out, map[string]any{sf.Field.Name: d})
	}
	return out
}

// ToMap returns the field's definition table (every attribute that is set).
func (f *Field) ToMap() map[string]any {
	m := map[string]any{}
	if f.Type != "" {
		m["type"] = string(f.Type)
	}
	flags := []struct {
		k string
		v bool
	}{
		{"required", f.Required}, {"unique", f.Unique}, {"unique_across_ws", f.UniqueAcrossWS},
		{"immutable", f.Immutable}, {"auto", f.Auto}, {"abstract", f.Abstract},
		{"transient", f.Transient}, {"referenceable", f.Referenceable}, {"encrypted", f.Encrypted},
		{"nilable", f.Nilable}, {"timestamp", f.Timestamp}, {"uuid", f.UUID}, {"is_regex", f.IsRegex},
	}
	for _, fl := range flags {
		if fl.v {
			m[fl.k] = true
		}
	}
	if f.RequiredSet && !f.Required {
		m["required"] = false
	}
	if f.HasDefault {
		m["default"] = DeepCopy(f.Default)
	}
	if f.Reference != "" {
		m["reference"] = f.Reference
	}
	if f.OnDelete != "" {
		m["on_delete"] = f.OnDelete
	}
	if f.Elements != nil {
		m["elements"] = f.Elements.ToMap()
	}
	if f.Keys != nil {
		m["keys"] = f.Keys.ToMap()
	}
	if f.Values != nil {
		m["values"] = f.Values.ToMap()
	}
	if f.Fields != nil {
		m["fields"] = fieldsToList(f.Fields)
	}
	if f.HasEq {
		m["eq"] = f.Eq
	}
	if f.HasNe {
		m["ne"] = f.Ne
	}
	if f.NotOneOf != nil {
		m["not_one_of"] = f.NotOneOf
	}
	if f.OneOf != nil {
		m["one_of"] = f.OneOf
	}
	if f.Gt != nil {
		m["gt"] = *f.Gt
	}
	if f.Between != nil {
		m["between"] = []any{f.Between[0], f.Between[1]}
	}
	for k, p := range map[string]*int{"len_eq": f.LenEq, "len_min": f.LenMin, "len_max": f.LenMax} {
		if p != nil {
			m[k] = float64(*p)
		}
	}
	for k, p := range map[string]*string{"starts_with": f.StartsWith, "not_match": f.NotMatch, "match": f.Match} {
		if p != nil {
			m[k] = *p
		}
	}
	rules := func(rs []MatchRule) []any {
		out := make([]any, 0, len(rs))
		for _, r := range rs {
			e := map[string]any{"pattern": r.Pattern}
			if r.Err != "" {
				e["err"] = r.Err
			}
			out = append(out, e)
		}
		return out
	}
	if f.MatchNone != nil {
		m["match_none"] = rules(f.MatchNone)
	}
	if f.MatchAll != nil {
		m["match_all"] = rules(f.MatchAll)
	}
	if f.MatchAny != nil {
		ma := map[string]any{"patterns": strsToAny(f.MatchAny.Patterns)}
		if f.MatchAny.Err != "" {
			ma["err"] = f.MatchAny.Err
		}
		m["match_any"] = ma
	}
	if f.HasContains {
		m["contains"] = f.Contains
	}
	if f.CustomValidator != nil {
		m["custom_validator"] = f.CustomValidator
	}
	if f.MutuallyExclusiveSubsets != nil {
		subs := make([]any, 0, len(f.MutuallyExclusiveSubsets))
		for _, s := range f.MutuallyExclusiveSubsets {
			subs = append(subs, strsToAny(s))
		}
		m["mutually_exclusive_subsets"] = subs
	}
	if f.Err != "" {
		m["err"] = f.Err
	}
	if f.EntityChecks != nil {
		m["entity_checks"] = checksToList(f.EntityChecks)
	}
	if f.ShorthandFields != nil {
		m["shorthand_fields"] = shorthandsToList(f.ShorthandFields)
	}
	if f.Description != "" {
		m["description"] = f.Description
	}
	if f.Examples != nil {
		m["examples"] = f.Examples
	}
	if f.Deprecation != nil {
		m["deprecation"] = f.Deprecation
	}
	if f.JSONSchema != nil {
		m["json_schema"] = f.JSONSchema
	}
	if f.GenerateAdminAPI != nil {
		m["generate_admin_api"] = *f.GenerateAdminAPI
	}
	return m
}
