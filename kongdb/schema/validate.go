package schema

import (
	"context"
)

// Context is the CRUD context of ProcessAutoFields and Transform.
type Context string

const (
	CtxInsert Context = "insert"
	CtxUpdate Context = "update"
	CtxUpsert Context = "upsert"
	CtxSelect Context = "select"
)

// SubschemaFor returns the subschema selected by input's subschema_key
// value (for a set-typed key, the first member that names one), or nil.
func (s *Schema) SubschemaFor(input map[string]any) *Schema {
	if s.SubschemaKey == "" || s.Subschemas == nil || input == nil {
		return nil
	}
	switch k := input[s.SubschemaKey].(type) {
	case string:
		return s.Subschemas[k]
	case []any:
		for _, e := range k {
			if name, ok := e.(string); ok {
				if sub := s.Subschemas[name]; sub != nil {
					return sub
				}
			}
		}
	}
	return nil
}

// FieldsFor lists the schema's fields in declared order, with the fields
// of the subschema selected by input replacing the parent's (Kong's
// each_field(values)). The slice is shared when there is no subschema.
func (s *Schema) FieldsFor(input map[string]any) []*Field {
	sub := s.SubschemaFor(input)
	if sub == nil {
		return s.Fields
	}
	if sub.merged != nil && len(sub.merged) == len(s.Fields) {
		return sub.merged
	}
	out := make([]*Field, len(s.Fields))
	for i, f := range s.Fields {
		if sf := sub.Field(f.Name); sf != nil {
			out[i] = sf
		} else {
			out[i] = f
		}
	}
	return out
}

// Validate checks input against the schema (Kong's Schema:validate): it
// returns nil when valid, else Kong's error table (field -> message or
// nested table, "@entity" -> []any of messages). With full set, missing
// required fields are errors (insert, upsert); without, only nulls are
// (partial update). The error return is for Lua functions that failed to
// run.
func (s *Schema) Validate(ctx context.Context, input map[string]any, full bool) (map[string]any, error) {
	return s.validate(ctx, input, full, nil, nil, false)
}

// ValidateInsert is a full check; original is the input before
// process_auto_fields (for transformation checks), or nil.
func (s *Schema) ValidateInsert(ctx context.Context, input, original map[string]any) (map[string]any, error) {
	return s.validate(ctx, input, true, original, nil, false)
}

// ValidateUpsert is a full check, as ValidateInsert.
func (s *Schema) ValidateUpsert(ctx context.Context, input, original map[string]any) (map[string]any, error) {
	return s.validate(ctx, input, true, original, nil, false)
}

// ValidateUpdate is a partial check of the merged entity; the entity-check
// messages say "when updating" as Kong's do. rbw is the read-before-write
// entity (for transformation "needs"), or nil.
func (s *Schema) ValidateUpdate(ctx context.Context, input, original, rbw map[string]any) (map[string]any, error) {
	return s.validate(ctx, input, false, original, rbw, true)
}

func (s *Schema) validate(ctx context.Context, input map[string]any, full bool, original, rbw map[string]any, updating bool) (map[string]any, error) {
	if input == nil {
		input = map[string]any{}
	}
	if s.SubschemaKey != "" {
		key := input[s.SubschemaKey]
		if key == nil || IsNull(key) {
			return map[string]any{s.SubschemaKey: MsgRequired}, nil
		}
		if s.SubschemaFor(input) == nil {
			format := s.SubschemaError
			if format == "" {
				format = MsgSubschemaUnkown
			}
			name := key
			if arr, ok := asArray(key); ok {
				name = ret(arr, 0)
			}
			return map[string]any{s.SubschemaKey: LuaFormat(format, name)}, nil
		}
	}

	errs := map[string]any{}
	sub := s.SubschemaFor(input)
	for k, v := range input {
		f := s.Field(k)
		var sf *Field
		if sub != nil {
			sf = sub.Field(k)
		}
		if (f != nil && f.Type == TypeJSON) || (sf != nil && sf.Type == TypeJSON) {
			jf := f
			if sf != nil {
				jf = sf
			}
			if msg := validateJSONField(jf, k, input); msg != nil {
				errs[k] = msg
			}
			continue
		}
		if f != nil && f.Type == typeSelf {
			// the metaschema's `default`: validated against the field
			// definition being checked (input itself)
			self, ferr := FieldFromMap("", input, nil)
			if ferr != nil || self.Type == "" {
				errs[k] = MsgCannotValidate
				continue
			}
			Prepare(&Schema{Fields: []*Field{self}})
			msg, err := s.validateField(ctx, self, v, false)
			if err != nil {
				return nil, err
			}
			if msg != nil {
				errs[k] = msg
			}
			continue
		}
		if (k == "ttl" && s.TTL) || k == "updated_at" {
			continue // Kong's unvalidated_fields
		}
		if f == nil {
			if !(IsNull(v) && isDataPlane(ctx)) {
				errs[k] = MsgUnknown
			}
			continue
		}
		if sf != nil {
			f = sf
		}
		msg, err := s.validateField(ctx, f, v, false)
		if err != nil {
			return nil, err
		}
		if msg != nil {
			errs[k] = msg
		}
	}

	for _, f := range s.Fields {
		if f.Required {
			v, present := input[f.Name]
			if IsNull(v) || (full && (!present || v == nil)) {
				errs[f.Name] = MsgRequired
			}
		}
	}

	if err := s.runEntityChecks(ctx, input, full, updating, errs); err != nil {
		return nil, err
	}
	s.runTransformationChecks(input, original, rbw, errs)

	if len(errs) == 0 {
		return nil, nil
	}
	return errs, nil
}

// ValidatePrimaryKey checks a primary-key table: per key "missing primary
// key", "required field missing" (null on a required or auto key) or the
// field's validation error; extra keys are "not a primary key" unless
// ignoreOthers.
func (s *Schema) ValidatePrimaryKey(ctx context.Context, pk map[string]any, ignoreOthers bool) (map[string]any, error) {
	errs := map[string]any{}
	for _, k := range s.PrimaryKey {
		f := s.Field(k)
		v := pk[k]
		switch {
		case !truthy(v):
			errs[k] = MsgMissingPK
		case f == nil:
			errs[k] = MsgUnknown
		case (f.Required || f.Auto) && IsNull(v):
			errs[k] = MsgRequired
		default:
			msg, err := s.validateField(ctx, f, v, false)
			if err != nil {
				return nil, err
			}
			if msg != nil {
				errs[k] = msg
			}
		}
	}
	if !ignoreOthers {
		for k := range pk {
			if !s.isPK(k) {
				errs[k] = MsgNotPK
			}
		}
	}
	if len(errs) == 0 {
		return nil, nil
	}
	return errs, nil
}

func (s *Schema) isPK(name string) bool {
	for _, k := range s.PrimaryKey {
		if k == name {
			return true
		}
	}
	return false
}

// ExtractPK returns the primary-key entries of entity.
func (s *Schema) ExtractPK(entity map[string]any) map[string]any {
	pk := make(map[string]any, len(s.PrimaryKey))
	for _, k := range s.PrimaryKey {
		if v, ok := entity[k]; ok {
			pk[k] = v
		}
	}
	return pk
}

// ValidateImmutableFields compares every immutable field of input with
// entity (arrays order-insensitively); nil when none changed. As in Kong, an
// immutable field absent from input but set in entity counts as changed
// (Kong compares nil with the stored value).
func (s *Schema) ValidateImmutableFields(input, entity map[string]any) map[string]any {
	var errs map[string]any
	for _, f := range s.FieldsFor(input) {
		if !f.Immutable {
			continue
		}
		old, ok := entity[f.Name]
		if !ok || old == nil {
			continue
		}
		in := input[f.Name]
		var same bool
		if a, isArr := in.([]any); isArr && len(a) > 0 {
			b, _ := asArray(old)
			same = compareNoOrder(a, b)
		} else {
			same = DeepEqual(in, old)
		}
		if !same {
			if errs == nil {
				errs = map[string]any{}
			}
			errs[f.Name] = MsgImmutable
		}
	}
	return errs
}
