package schema

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/luahost/luahost/pcre"
)

// ErrNoFuncRunner is returned when a schema holds a Lua function and the
// context carries no FuncRunner to run it.
var ErrNoFuncRunner = errors.New("schema: a Lua function must run but the context has no FuncRunner")

// callFunc runs fn through the context's FuncRunner; a typedef's builtin
// marker (Ref "builtin:<name>", as Go-built core schemas hold) runs its Go
// validator directly, returning true or nil and the message as Lua would.
func callFunc(ctx context.Context, fn *Func, args ...any) ([]any, error) {
	if fn.Go != nil {
		return fn.Go(args...), nil
	}
	if nv := BuiltinValidatorFor(fn); nv != nil {
		if ok, msg := nv(ret(args, 0)); !ok {
			return []any{nil, msg}, nil
		}
		return []any{true}, nil
	}
	r := FuncRunnerFrom(ctx)
	if r == nil {
		return nil, fmt.Errorf("%w (%s)", ErrNoFuncRunner, fn.Ref)
	}
	return r.CallFunc(ctx, fn, args...)
}

func ret(res []any, i int) any {
	if i < len(res) {
		return res[i]
	}
	return nil
}

// RecordSchema returns the schema of a record field (Kong's
// get_field_schema): its fields, entity checks and shorthand fields.
func (f *Field) RecordSchema() *Schema {
	if f.record != nil {
		return f.record
	}
	return newRecordSchema(f)
}

func newRecordSchema(f *Field) *Schema {
	rs := &Schema{Name: f.Name, Fields: f.Fields, EntityChecks: f.EntityChecks, ShorthandFields: f.ShorthandFields}
	rs.Index()
	return rs
}

// ValidateField validates one value against a field definition (Kong's
// Schema:validate_field). It returns nil when the value is valid, else the
// error: a message string, a map (records, foreign keys) or an array of
// per-element errors (arrays, sets; nil where an element is valid). The
// error return is for failures to run Lua functions, not for invalid data.
func (s *Schema) ValidateField(ctx context.Context, f *Field, v any) (any, error) {
	return s.validateField(ctx, f, v, false)
}

func (s *Schema) validateField(ctx context.Context, f *Field, v any, required bool) (any, error) {
	if IsNull(v) {
		if f.HasNe && IsNull(f.Ne) {
			return orErr(f, LuaFormat(MsgNe, "null")), nil
		}
		if f.HasEq && !IsNull(f.Eq) && f.Eq != nil {
			return LuaFormat(MsgEq, LuaToString(f.Eq)), nil
		}
		if f.Required || required {
			return MsgRequired, nil
		}
		return nil, nil
	}
	if f.HasEq && IsNull(f.Eq) {
		return orErr(f, LuaFormat(MsgEq, "null")), nil
	}
	if f.Abstract {
		return MsgAbstractField, nil
	}
	if f.Deprecation != nil {
		warnDeprecated(ctx, f, v)
	}

	lenMinDefault := false
	switch f.Type {
	case TypeArray, TypeSet:
		arr, ok := asArray(v)
		if !ok {
			if f.Type == TypeSet {
				return MsgSet, nil
			}
			return MsgArray, nil
		}
		if f.Elements != nil {
			var errs []any
			for i, e := range arr {
				msg, err := s.validateField(ctx, f.Elements, e, true)
				if err != nil {
					return nil, err
				}
				if msg != nil {
					if errs == nil {
						errs = make([]any, len(arr))
					}
					errs[i] = msg
				}
			}
			if errs != nil {
				// trim trailing nils: Kong's table only has failing indexes
				last := len(errs)
				for last > 0 && errs[last-1] == nil {
					last--
				}
				return errs[:last], nil
			}
		}
	case TypeMap:
		m, ok := asTable(v)
		if !ok {
			return MsgMap, nil
		}
		for _, k := range sortedMapKeys(m) {
			if f.Keys != nil {
				msg, err := s.validateField(ctx, f.Keys, k, true)
				if err != nil || msg != nil {
					return msg, err
				}
			}
			if f.Values != nil {
				msg, err := s.validateField(ctx, f.Values, m[k], true)
				if err != nil || msg != nil {
					return msg, err
				}
			}
		}
	case TypeRecord:
		m, ok := asTable(v)
		if !ok {
			return MsgRecord, nil
		}
		rs := f.RecordSchema()
		cp, serrs, err := rs.ProcessAutoFields(ctx, m, CtxInsert, nil)
		if err != nil {
			return nil, err
		}
		if serrs != nil {
			return serrs, nil
		}
		errs, err := rs.Validate(ctx, cp, true)
		if err != nil {
			return nil, err
		}
		if errs != nil {
			return errs, nil
		}
	case TypeForeign:
		if ref := f.RefSchema; ref != nil {
			m, isMap := asTable(v)
			if !isMap {
				m = map[string]any{}
			}
			pkErrs, err := ref.ValidatePrimaryKey(ctx, m, true)
			if err != nil {
				return nil, err
			}
			if pkErrs != nil {
				if isMap {
					ferrs, err := ref.Validate(ctx, m, false)
					if err != nil {
						return nil, err
					}
					if ferrs != nil {
						return ferrs, nil
					}
				}
				return pkErrs, nil
			}
		}
	case TypeInteger:
		if n, ok := toFloat(v); !ok || !IsInt64(n) {
			return MsgInteger, nil
		}
	case TypeNumber:
		if n, ok := toFloat(v); !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			return MsgNumber, nil
		}
	case TypeString:
		str, ok := v.(string)
		if !ok {
			return MsgString, nil
		}
		lenMinDefault = f.LenMin == nil
		if f.Referenceable && IsReference(str) {
			return nil, nil
		}
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return MsgBoolean, nil
		}
	case TypeFunction:
		if _, ok := v.(*Func); !ok {
			return MsgFunc, nil
		}
	case TypeJSON, TypeAny:
		// json: any JSON value (json_schema validation is not run);
		// any: validators only.
	default:
		return LuaFormat(MsgSchemaType, string(f.Type)), nil
	}
	return s.runValidators(ctx, f, v, lenMinDefault)
}

func orErr(f *Field, msg string) string {
	if f.Err != "" {
		return f.Err
	}
	return msg
}

// runValidators runs the validators in Schema.validators_order; the first
// failure wins and field.err overrides its message. Each stage below is a
// run of that order (values, type-dependent, lengths, patterns, contains,
// functions); a stage reports whether the value failed and the message
// (which a plugin's validator may leave empty, as Lua allows).
func (s *Schema) runValidators(ctx context.Context, f *Field, v any, lenMinDefault bool) (any, error) {
	str, isStr := v.(string)
	failed := func(msg string) (string, bool, error) { return msg, msg != "", nil }
	for _, stage := range [...]func() (string, bool, error){
		func() (string, bool, error) { return failed(valueValidators(f, v)) },
		func() (string, bool, error) { return failed(typeValidators(f, v, str, isStr)) },
		func() (string, bool, error) { return failed(lengthValidators(f, v, lenMinDefault)) },
		func() (string, bool, error) {
			if !isStr {
				return "", false, nil
			}
			return patternValidators(f, str)
		},
		func() (string, bool, error) { return failed(containsValidator(f, v)) },
		func() (string, bool, error) { return functionValidators(ctx, f, v) },
	} {
		msg, bad, err := stage()
		if err != nil {
			return nil, err
		}
		if bad {
			return orErr(f, msg), nil
		}
	}
	return nil, nil
}

// valueValidators: eq, ne, not_one_of, one_of.
func valueValidators(f *Field, v any) string {
	if f.HasEq && !luaEqual(v, f.Eq) {
		return LuaFormat(MsgEq, f.Eq)
	}
	if f.HasNe && luaEqual(v, f.Ne) {
		return LuaFormat(MsgNe, v)
	}
	for _, o := range f.NotOneOf {
		if luaEqual(v, o) {
			return LuaFormat(MsgNotOneOf, luaConcat(f.NotOneOf, ", "))
		}
	}
	if f.OneOf != nil {
		for _, o := range f.OneOf {
			if luaEqual(v, o) {
				return ""
			}
		}
		return LuaFormat(MsgOneOf, luaConcat(f.OneOf, ", "))
	}
	return ""
}

// typeValidators: gt, timestamp, uuid, is_regex, between.
func typeValidators(f *Field, v any, str string, isStr bool) string {
	num, isNum := toFloat(v)
	switch {
	case f.Gt != nil && isNum && !(num > *f.Gt):
		return LuaFormat(MsgGt, *f.Gt)
	case f.Timestamp && isNum && !(num > 0):
		return MsgTimestamp
	case f.UUID && isStr && !IsUUID(str):
		return MsgUUID
	case f.IsRegex && isStr && !isValidRegex(str):
		return LuaFormat(MsgIsRegex, str)
	case f.Between != nil && isNum && (num < f.Between[0] || num > f.Between[1]):
		return LuaFormat(MsgBetween, f.Between[0], f.Between[1])
	}
	return ""
}

// lengthValidators: len_eq, len_min (1 by default for strings), len_max.
func lengthValidators(f *Field, v any, lenMinDefault bool) string {
	if f.LenEq == nil && f.LenMin == nil && f.LenMax == nil && !lenMinDefault {
		return ""
	}
	n, ok := valueLen(v)
	if !ok {
		return ""
	}
	if f.LenEq != nil && n != *f.LenEq {
		return LuaFormat(MsgLenEq, *f.LenEq)
	}
	lmin := 1
	if f.LenMin != nil {
		lmin = *f.LenMin
	}
	if (f.LenMin != nil || lenMinDefault) && n < lmin {
		return LuaFormat(MsgLenMin, lmin)
	}
	if f.LenMax != nil && n > *f.LenMax {
		return LuaFormat(MsgLenMax, *f.LenMax)
	}
	return ""
}

// patternValidators: starts_with, not_match, match_none, match, match_all,
// match_any (strings only). A malformed pattern is an error.
func patternValidators(f *Field, str string) (string, bool, error) {
	if f.StartsWith != nil && !strings.HasPrefix(str, *f.StartsWith) {
		return LuaFormat(MsgStartsWith, *f.StartsWith), true, nil
	}
	if f.NotMatch != nil {
		if m, err := LuaMatch(str, *f.NotMatch); err != nil || m {
			return LuaFormat(MsgMatch, str), true, err
		}
	}
	for _, r := range f.MatchNone {
		if m, err := LuaMatch(str, r.Pattern); err != nil || m {
			return r.Err, true, err
		}
	}
	if f.Match != nil {
		if m, err := LuaMatch(str, *f.Match); err != nil || !m {
			return LuaFormat(MsgMatch, str), true, err
		}
	}
	for _, r := range f.MatchAll {
		if m, err := LuaMatch(str, r.Pattern); err != nil || !m {
			return r.Err, true, err
		}
	}
	if f.MatchAny != nil {
		for _, p := range f.MatchAny.Patterns {
			m, err := LuaMatch(str, p)
			if err != nil {
				return "", false, err
			}
			if m {
				return "", false, nil
			}
		}
		return f.MatchAny.Err, true, nil
	}
	return "", false, nil
}

// containsValidator: contains (arrays).
func containsValidator(f *Field, v any) string {
	if !f.HasContains {
		return ""
	}
	arr, ok := asArray(v)
	if !ok {
		return ""
	}
	for _, e := range arr {
		if luaEqual(e, f.Contains) {
			return ""
		}
	}
	return LuaFormat(MsgContains, f.Contains)
}

// functionValidators: custom_validator (Lua, or a Go builtin), then
// mutually_exclusive_subsets.
func functionValidators(ctx context.Context, f *Field, v any) (string, bool, error) {
	if f.CustomValidator != nil {
		res, err := callFunc(ctx, f.CustomValidator, v)
		if err != nil {
			return "", false, err
		}
		if !truthy(ret(res, 0)) {
			if msg, ok := ret(res, 1).(string); ok {
				return msg, true, nil
			}
			if e := ret(res, 1); e != nil {
				return LuaToString(e), true, nil
			}
			return LuaFormat(MsgValidation, v), true, nil
		}
	}
	if f.NativeValidator != nil {
		if ok, msg := f.NativeValidator(v); !ok {
			if msg == "" {
				msg = LuaFormat(MsgValidation, v)
			}
			return msg, true, nil
		}
	}
	if f.MutuallyExclusiveSubsets != nil {
		if arr, ok := asArray(v); ok {
			msg := mutuallyExclusiveSubsets(arr, f.MutuallyExclusiveSubsets)
			return msg, msg != "", nil
		}
	}
	return "", false, nil
}

func mutuallyExclusiveSubsets(value []any, subsets [][]string) string {
	owner := map[string]int{}
	for i, sub := range subsets {
		for _, e := range sub {
			owner[e] = i
		}
	}
	seen := map[int]bool{}
	var memberOf []any
	for _, v := range value {
		s, ok := v.(string)
		if !ok {
			continue
		}
		if i, ok := owner[s]; ok && !seen[i] {
			seen[i] = true
			memberOf = append(memberOf, strsToAny(subsets[i]))
		}
	}
	if len(memberOf) <= 1 {
		return ""
	}
	return LuaFormat(MsgMutuallyExclusiveSets, quotedList(memberOf))
}

// valueLen is Lua's # for strings (bytes) and arrays; maps count pairs.
func valueLen(v any) (int, bool) {
	switch x := v.(type) {
	case string:
		return len(x), true
	case []any:
		return len(x), true
	case []string:
		return len(x), true
	case map[string]any:
		return len(x), true
	}
	return 0, false
}

// IsUUID is Kong's uuid validator: 36 characters, hex groups 8-4-4-4-12,
// any case.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isXDigit(c) {
				return false
			}
		}
	}
	return true
}

// isValidRegex is Kong's is_regex: the pattern compiles as PCRE, here by
// package pcre, the compiler the router and ngx.re use, so a regex the
// schema accepts is one the router can build.
func isValidRegex(s string) bool {
	_, err := pcre.Compile(s, pcre.Flags{}, 0)
	return err == nil
}
