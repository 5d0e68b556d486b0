package schema

import (
	"context"
)

// MergeValues is Kong's Schema:merge_values: top over bottom, records
// merged field by field (recursively), everything else (arrays, sets,
// maps) replaced. Neither input is modified.
func (s *Schema) MergeValues(top, bottom map[string]any) map[string]any {
	out := make(map[string]any, len(top)+len(bottom))
	for k, v := range bottom {
		out[k] = v
	}
	for k, v := range top {
		out[k] = v
	}
	for _, f := range s.FieldsFor(bottom) {
		topV, ok := top[f.Name]
		if !ok || topV == nil {
			if bv, ok := bottom[f.Name]; ok {
				out[f.Name] = bv
			}
			continue
		}
		if f.Type == TypeRecord && !f.Abstract {
			if tm, ok := topV.(map[string]any); ok {
				bm, _ := bottom[f.Name].(map[string]any)
				out[f.Name] = f.RecordSchema().MergeValues(tm, bm)
				continue
			}
		}
		out[f.Name] = topV
	}
	return out
}

// HasTransformations reports whether the schema or input's subschema
// declares transformations.
func (s *Schema) HasTransformations(input map[string]any) bool {
	if len(s.Transformations) > 0 {
		return true
	}
	sub := s.SubschemaFor(input)
	return sub != nil && len(sub.Transformations) > 0
}

// TransformError is a transformation function's failure; its message is
// Kong's "transformation failed: <err>" (the DAO reports it as
// TRANSFORMATION_ERROR).
type TransformError struct{ Msg string }

func (e *TransformError) Error() string { return e.Msg }

// Transform runs the schema's (then the subschema's) transformations:
// on_write for insert/update/upsert, on_read for select. original is the
// caller's input before processing (nil on select). A failing function
// gives a *TransformError; a function that could not run, another error.
func (s *Schema) Transform(ctx context.Context, input, original map[string]any, c Context) (map[string]any, error) {
	out := input
	if len(s.Transformations) > 0 {
		var err error
		out, err = s.runTransformations(ctx, s.Transformations, input, original, c)
		if err != nil {
			return nil, err
		}
	}
	if sub := s.SubschemaFor(input); sub != nil && len(sub.Transformations) > 0 {
		var err error
		out, err = sub.runTransformations(ctx, sub.Transformations, out, original, c)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Schema) runTransformations(ctx context.Context, ts []Transformation, input, original map[string]any, c Context) (map[string]any, error) {
	var output map[string]any
	cur := func() map[string]any {
		if output != nil {
			return output
		}
		return input
	}
	for _, t := range ts {
		fn := t.OnWrite
		if c == CtxSelect {
			fn = t.OnRead
		}
		if fn == nil {
			continue
		}
		var args []any
		if t.Input != nil || t.Needs != nil {
			var ok bool
			args, ok = transformArgs(input, original, output, t)
			if !ok {
				continue
			}
		} else {
			args = []any{cur()}
		}
		res, err := callFunc(ctx, fn, args...)
		if err != nil {
			return nil, err
		}
		if e := ret(res, 1); e != nil {
			return nil, &TransformError{Msg: LuaFormat(MsgTransformation, e)}
		}
		data, _ := asTable(ret(res, 0))
		if data == nil {
			data = map[string]any{}
		}
		output = s.MergeValues(data, cur())
	}
	return cur(), nil
}

// transformArgs is Kong's get_transform_args: the values of input then
// needs, or false when any is empty.
func transformArgs(input, original, output map[string]any, t Transformation) ([]any, bool) {
	pick := func(ms ...map[string]any) map[string]any {
		for _, m := range ms {
			if m != nil {
				return m
			}
		}
		return nil
	}
	var args []any
	for _, n := range t.Input {
		v := GetPath(pick(output, original, input), n)
		if !IsNonEmpty(v) {
			return nil, false
		}
		if original != nil {
			args = append(args, GetPath(pick(output, input), n))
		} else {
			args = append(args, v)
		}
	}
	for _, n := range t.Needs {
		v := GetPath(pick(output, input), n)
		if !IsNonEmpty(v) {
			return nil, false
		}
		args = append(args, v)
	}
	return args, true
}
