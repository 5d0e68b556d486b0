package schema

import (
	"context"
	"sync"
)

// The MetaSchema (kong/db/schema/metaschema.lua) expressed with our own
// engine: a schema whose entities are schema definitions. ValidateDefinition
// runs it over a definition table, so a plugin's daos.lua / schema.lua is
// accepted or refused with Kong's error table (unknown attributes,
// description length, a default that does not fit its own field...).
// It accepts the union of what Kong 2.8–3.10 accept (KONG-REFERENCE §11.1).

var (
	metaOnce      sync.Once
	metaSchema    *Schema
	metaSubSchema *Schema
)

// ValidateDefinition validates an entity schema definition (daos.lua)
// against the MetaSchema, or, with sub, a plugin config schema (schema.lua)
// against the MetaSubSchema. It returns nil or Kong's error table: format it
// with kongdb's SchemaViolation, as Kong does ("schema violation (...)").
func ValidateDefinition(ctx context.Context, def map[string]any, sub bool) (map[string]any, error) {
	metaOnce.Do(buildMetaSchemas)
	ms := metaSchema
	if sub {
		ms = metaSubSchema
	}
	return ms.Validate(ctx, def, true)
}

func mf(name string, def map[string]any) *Field {
	f, err := FieldFromMap(name, def, nil)
	if err != nil {
		panic("schema: metaschema: " + name + ": " + err.Error())
	}
	return f
}

func buildMetaSchemas() {
	str := func() map[string]any { return map[string]any{"type": "string"} }
	boolean := func() map[string]any { return map[string]any{"type": "boolean"} }
	strArray := func() map[string]any { return map[string]any{"type": "array", "elements": str()} }
	matchList := map[string]any{"type": "array", "elements": map[string]any{"type": "record", "fields": []any{
		map[string]any{"pattern": map[string]any{"type": "string", "required": true}},
		map[string]any{"err": str()},
	}}}

	validators := []*Field{
		mf("between", map[string]any{"type": "array", "elements": map[string]any{"type": "number"}, "len_eq": 2.0}),
		mf("eq", map[string]any{"type": "any"}),
		mf("ne", map[string]any{"type": "any"}),
		mf("gt", map[string]any{"type": "number"}),
		mf("len_eq", map[string]any{"type": "integer"}),
		mf("len_min", map[string]any{"type": "integer"}),
		mf("len_max", map[string]any{"type": "integer"}),
		mf("match", str()),
		mf("not_match", str()),
		mf("match_all", matchList),
		mf("match_none", matchList),
		mf("match_any", map[string]any{"type": "record", "fields": []any{
			map[string]any{"patterns": map[string]any{"type": "array", "elements": str(), "required": true}},
			map[string]any{"err": str()},
		}}),
		mf("starts_with", str()),
		mf("one_of", map[string]any{"type": "array", "elements": map[string]any{"type": "any"}}),
		mf("not_one_of", map[string]any{"type": "array", "elements": map[string]any{"type": "any"}}),
		mf("contains", map[string]any{"type": "any"}),
		mf("is_regex", boolean()),
		mf("timestamp", boolean()),
		mf("uuid", boolean()),
		mf("custom_validator", map[string]any{"type": "function"}),
		mf("mutually_exclusive_subsets", map[string]any{"type": "array", "elements": strArray()}),
	}

	jsonMeta := mf("json_schema", map[string]any{"type": "record", "fields": []any{
		map[string]any{"namespace": map[string]any{"type": "string", "one_of": []any{"proxy-wasm-filters"}}},
		map[string]any{"parent_subschema_key": str()},
		map[string]any{"optional": boolean()},
		map[string]any{"inline": map[string]any{"type": "any"}},
		map[string]any{"default": map[string]any{"type": "any"}},
	}, "entity_checks": []any{
		map[string]any{"at_least_one_of": []any{"inline", "namespace", "parent_subschema_key"}},
		map[string]any{"mutually_required": []any{"namespace", "parent_subschema_key"}},
		map[string]any{"mutually_exclusive_sets": map[string]any{
			"set1": []any{"inline"}, "set2": []any{"namespace", "parent_subschema_key", "optional"}}},
	}})

	typeNames := []any{"array", "set", "string", "number", "boolean", "integer", "foreign", "map", "record", "function", "json"}
	fieldSchema := []*Field{
		mf("type", map[string]any{"type": "string", "one_of": typeNames, "required": true}),
		mf("required", boolean()),
		mf("reference", str()),
		mf("description", map[string]any{"type": "string", "len_min": 10.0, "len_max": 500.0}),
		mf("examples", map[string]any{"type": "array", "elements": map[string]any{"type": "any"}}),
		mf("auto", boolean()),
		mf("unique", boolean()),
		mf("unique_across_ws", boolean()),
		mf("on_delete", map[string]any{"type": "string", "one_of": []any{"restrict", "cascade", "null"}}),
		{Name: "default", Type: typeSelf},
		mf("abstract", boolean()),
		mf("generate_admin_api", boolean()),
		mf("immutable", boolean()),
		mf("err", str()),
		mf("encrypted", boolean()),
		mf("referenceable", boolean()),
		jsonMeta,
		mf("transient", boolean()),
		mf("legacy", boolean()), // 2.8
		mf("deprecation", map[string]any{"type": "record", "fields": []any{
			map[string]any{"message": map[string]any{"type": "string", "required": true}},
			map[string]any{"removal_in_version": map[string]any{"type": "string", "required": true}},
			map[string]any{"old_default": map[string]any{"type": "any"}},
			map[string]any{"replaced_with": map[string]any{"type": "array", "elements": map[string]any{
				"type": "record", "required": false, "fields": []any{
					map[string]any{"path": map[string]any{"type": "array", "len_min": 1.0, "required": true, "elements": str()}},
					map[string]any{"reverse_mapping_function": map[string]any{"type": "function"}},
				}}}},
		}}),
	}
	fieldSchema = append(fieldSchema, validators...)
	for _, f := range fieldSchema {
		f.Nilable = !f.Required
	}

	fieldEntityChecks := []EntityCheck{{Name: "conditional", Arg: map[string]any{
		"if_field": "unique_across_ws", "if_match": map[string]any{"eq": true},
		"then_field": "unique", "then_match": map[string]any{"eq": true, "required": true},
	}}}

	lenOne := 1
	fieldRecord := &Field{Type: TypeRecord, EntityChecks: fieldEntityChecks}
	fieldsArray := func() *Field {
		return &Field{Name: "fields", Type: TypeArray, Elements: &Field{
			Type: TypeMap, Keys: &Field{Type: TypeString}, Values: fieldRecord, Required: true, LenEq: &lenOne,
		}}
	}
	transformations := mf("transformations", map[string]any{"type": "array", "nilable": true, "elements": map[string]any{
		"type": "record", "fields": []any{
			map[string]any{"input": map[string]any{"type": "array", "required": false, "elements": str()}},
			map[string]any{"needs": map[string]any{"type": "array", "required": false, "elements": str()}},
			map[string]any{"on_write": map[string]any{"type": "function", "required": false}},
			map[string]any{"on_read": map[string]any{"type": "function", "required": false}},
		},
		"entity_checks": []any{map[string]any{"at_least_one_of": []any{"on_write", "on_read"}}},
	}})

	// recursive attributes
	fieldSchema = append(fieldSchema,
		&Field{Name: "elements", Type: TypeRecord, Nilable: true},
		&Field{Name: "keys", Type: TypeRecord, Nilable: true},
		&Field{Name: "values", Type: TypeRecord, Nilable: true},
		fieldsArray(),
	)
	conditionalValidators := []*Field{
		mf("required", boolean()),
		{Name: "elements", Type: TypeRecord},
		{Name: "keys", Type: TypeRecord},
		{Name: "values", Type: TypeRecord},
	}
	conditionalValidators = append(conditionalValidators, validators...)

	condRecord := func(name string) *Field { return &Field{Name: name, Type: TypeRecord, Fields: conditionalValidators} }
	checkerNames := []any{}
	entityCheckers := []*Field{
		mf("at_least_one_of", strArray()),
		{Name: "conditional_at_least_one_of", Type: TypeRecord, Fields: []*Field{
			mf("if_field", str()), condRecord("if_match"), mf("then_at_least_one_of", strArray()),
			mf("then_err", str()), condRecord("else_match"), mf("else_then_at_least_one_of", strArray()),
			mf("else_then_err", str()),
		}},
		mf("only_one_of", strArray()),
		mf("distinct", strArray()),
		{Name: "conditional", Type: TypeRecord, Fields: []*Field{
			mf("if_field", str()), condRecord("if_match"), mf("then_field", str()), condRecord("then_match"), mf("then_err", str()),
		}},
		mf("custom_entity_check", map[string]any{"type": "record", "fields": []any{
			map[string]any{"field_sources": strArray()},
			map[string]any{"fn": map[string]any{"type": "function"}},
			map[string]any{"run_with_missing_fields": boolean()},
			map[string]any{"run_with_invalid_fields": boolean()},
		}}),
		mf("mutually_required", strArray()),
		mf("mutually_exclusive", strArray()),
		mf("mutually_exclusive_sets", map[string]any{"type": "record", "fields": []any{
			map[string]any{"set1": strArray()}, map[string]any{"set2": strArray()},
		}}),
	}
	for _, c := range entityCheckers {
		checkerNames = append(checkerNames, c.Name)
	}
	entityChecksSchema := func() *Field {
		return &Field{Name: "entity_checks", Type: TypeArray, Nilable: true, Elements: &Field{
			Type: TypeRecord, Fields: entityCheckers,
			EntityChecks: []EntityCheck{{Name: "only_one_of", Arg: checkerNames}},
		}}
	}

	// shorthand fields: the field schema minus record/foreign/function
	// types, plus func and translate_backwards
	shorthandSchema := append([]*Field{}, fieldSchema...)
	shorthandSchema[0] = mf("type", map[string]any{"type": "string", "required": true,
		"one_of": []any{"array", "set", "string", "number", "boolean", "integer", "map", "json"}})
	shorthandSchema = append(shorthandSchema,
		mf("func", map[string]any{"type": "function", "required": true}),
		mf("translate_backwards", map[string]any{"type": "array", "elements": str(), "required": false}),
	)
	shorthandArray := func() *Field {
		return &Field{Name: "shorthand_fields", Type: TypeArray, Nilable: true, Elements: &Field{
			Type: TypeMap, Keys: &Field{Type: TypeString}, Required: true, LenEq: &lenOne,
			Values: &Field{Type: TypeRecord, Fields: shorthandSchema, EntityChecks: fieldEntityChecks},
		}}
	}

	ecField, shField := entityChecksSchema(), shorthandArray()
	ecField.Nilable, shField.Nilable = true, true
	fieldSchema = append(fieldSchema, ecField, shField)
	shorthandSchema = append(shorthandSchema, ecField, shField)
	shField.Elements.Values.Fields = shorthandSchema

	// close the cycles
	fieldRecord.Fields = fieldSchema
	for _, f := range fieldSchema {
		switch f.Name {
		case "elements", "keys", "values":
			if f.Type == TypeRecord {
				f.Fields = fieldSchema
			}
		}
	}
	for _, f := range conditionalValidators[1:4] {
		f.Fields = fieldSchema
	}

	nilable := func(f *Field) *Field { f.Nilable = true; return f }
	metaSchema = &Schema{Name: "metaschema", Fields: []*Field{
		mf("name", map[string]any{"type": "string", "required": true}),
		mf("primary_key", map[string]any{"type": "array", "elements": str(), "required": true}),
		nilable(mf("workspaceable", boolean())),
		nilable(mf("endpoint_key", str())),
		nilable(mf("cache_key", strArray())),
		nilable(mf("ttl", boolean())),
		nilable(mf("db_export", map[string]any{"type": "boolean", "default": true})),
		nilable(mf("subschema_key", str())),
		nilable(mf("subschema_error", str())),
		nilable(mf("generate_admin_api", map[string]any{"type": "boolean", "default": true})),
		nilable(mf("admin_api_name", str())),
		nilable(mf("table_name", str())),
		nilable(mf("admin_api_nested_name", str())),
		fieldsArray(),
		entityChecksSchema(),
		shorthandArray(),
		transformations,
		nilable(mf("check", map[string]any{"type": "function"})),
		nilable(mf("dao", str())),
		nilable(mf("legacy", boolean())), // 2.8
		nilable(mf("shorthands", map[string]any{"type": "array", "elements": map[string]any{ // 2.8
			"type": "map", "keys": str(), "values": map[string]any{"type": "function"}}})),
	}, goCheck: metaCheck}
	metaSubSchema = &Schema{Name: "metasubschema", Fields: []*Field{
		mf("name", map[string]any{"type": "string", "required": true}),
		fieldsArray(),
		entityChecksSchema(),
		shorthandArray(),
		transformations,
		nilable(mf("check", map[string]any{"type": "function"})),
	}, goCheck: metaSubCheck}
	Prepare(metaSchema)
	Prepare(metaSubSchema)
}

// typeSelf is the metaschema-internal type of `default`: the value is
// validated against the field definition that holds it.
const typeSelf Type = "self"
