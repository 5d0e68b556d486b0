package schema

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kong's validation messages (kong/db/schema/init.lua validation_errors).
// Tests compare against these exact strings; so does every Kong plugin spec.
const (
	MsgArray   = "expected an array"
	MsgSet     = "expected a set"
	MsgMap     = "expected a map"
	MsgRecord  = "expected a record"
	MsgString  = "expected a string"
	MsgNumber  = "expected a number"
	MsgBoolean = "expected a boolean"
	MsgInteger = "expected an integer"
	MsgFunc    = "expected a function"

	MsgEq         = "value must be %s"
	MsgNe         = "value must not be %s"
	MsgGt         = "value must be greater than %s"
	MsgBetween    = "value should be between %d and %d"
	MsgLenEq      = "length must be %d"
	MsgLenMin     = "length must be at least %d"
	MsgLenMax     = "length must be at most %d"
	MsgMatch      = "invalid value: %s"
	MsgStartsWith = "should start with: %s"
	MsgContains   = "expected to contain: %s"
	MsgOneOf      = "expected one of: %s"
	MsgNotOneOf   = "must not be one of: %s"
	MsgIsRegex    = "not a valid regex: %s"
	MsgTimestamp  = "expected a valid timestamp"
	MsgUUID       = "expected a valid UUID"
	MsgValidation = "failed validating: %s"

	MsgRequired  = "required field missing"
	MsgUnknown   = "unknown field"
	MsgImmutable = "immutable field cannot be updated"

	MsgRequiredForEntityCheck = "field required for entity check"
	MsgEntityCheck            = "failed entity check: %s(%s)"
	MsgCheck                  = "entity check failed"
	MsgConditional            = "failed conditional validation given value of field '%s'"
	MsgAtLeastOneOf           = "at least one of these fields must be non-empty: %s"
	MsgOnlyOneOf              = "exactly one of these fields must be non-empty: %s"
	MsgDistinct               = "values of these fields must be distinct: %s"
	MsgMutuallyRequired       = "all or none of these fields must be set: %s"
	MsgMutuallyExclusive      = "only one or none of these fields must be set: %s"
	MsgMutuallyExclusiveSets  = "these sets are mutually exclusive: %s"

	MsgBadReference    = "schema refers to an invalid foreign entity: %s"
	MsgCannotValidate  = "error in schema prevents from validating this field"
	MsgSchemaType      = "invalid type: %s"
	MsgNotPK           = "not a primary key"
	MsgMissingPK       = "missing primary key"
	MsgSubschemaUnkown = "unknown type: %s"

	MsgSubschemaBadParent      = "error in definition of '%s': entities of type '%s' cannot have subschemas"
	MsgSubschemaUndefinedField = "error in definition of '%s': %s: abstract field was not specialized"
	MsgSubschemaBadType        = "error in definition of '%s': %s: cannot change type in a specialized field"
	MsgSubschemaBadField       = "error in definition of '%s': %s: cannot create a new field"
	MsgAbstractField           = "error in schema definition: abstract field was not specialized"

	MsgTransformation = "transformation failed: %s"

	MsgNoNilable     = "%s: Entities cannot have nilable types."
	MsgNoFunctions   = "%s: Entities cannot have function types."
	MsgMapKeyStrings = "%s: Entities map keys must be strings."
)

// LuaFormat formats like Lua's string.format for the %s, %d and %%
// directives Kong's messages use (a custom subschema_error or then_err may
// carry any of them).
func LuaFormat(format string, args ...any) string {
	var b strings.Builder
	ai := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 's':
			if ai < len(args) {
				b.WriteString(LuaToString(args[ai]))
			}
			ai++
		case 'd':
			if ai < len(args) {
				if f, ok := toFloat(args[ai]); ok {
					b.WriteString(strconv.FormatInt(int64(f), 10))
				} else {
					b.WriteString(LuaToString(args[ai]))
				}
			}
			ai++
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// LuaToString is Lua's tostring for the value model.
func LuaToString(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case NullType:
		return x.String()
	case *Func:
		return "function: " + x.Ref
	case map[string]any, []any:
		return fmt.Sprintf("table: %p", x)
	}
	if f, ok := toFloat(v); ok {
		return formatNumber(f)
	}
	return fmt.Sprint(v)
}

// formatNumber prints a number as Lua's tostring does (%.14g).
func formatNumber(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// quotedList is Kong's quoted_list: "'a', 'b'"; nested lists as "('a'), ('b')".
func quotedList(words []any) string {
	parts := make([]string, 0, len(words))
	for _, w := range words {
		if l, ok := w.([]any); ok {
			parts = append(parts, "("+quotedList(l)+")")
			continue
		}
		if l, ok := w.([]string); ok {
			parts = append(parts, "("+quotedList(strsToAny(l))+")")
			continue
		}
		parts = append(parts, "'"+LuaToString(w)+"'")
	}
	return strings.Join(parts, ", ")
}

func strsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// luaConcat is table.concat(list, sep) (strings and numbers).
func luaConcat(list []any, sep string) string {
	parts := make([]string, len(list))
	for i, v := range list {
		parts[i] = LuaToString(v)
	}
	return strings.Join(parts, sep)
}

// ErrorsToString is Kong's schema:errors_to_string: "Validation error: "
// then the @entity messages, then "field: message" items (nested tables
// rendered recursively). Kong walks fields in hash order; we sort them.
func ErrorsToString(errs map[string]any) string {
	if len(errs) == 0 {
		return ""
	}
	var msgs []string
	if ent, ok := errs["@entity"]; ok {
		switch v := ent.(type) {
		case []any:
			for _, m := range v {
				msgs = append(msgs, LuaToString(m))
			}
		default:
			msgs = append(msgs, LuaToString(v))
		}
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		if k != "@entity" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := errs[k].(type) {
		case map[string]any:
			msgs = append(msgs, k+": "+ErrorsToString(v))
		case []any:
			m := map[string]any{}
			for i, e := range v {
				if e != nil {
					m[strconv.Itoa(i+1)] = e
				}
			}
			msgs = append(msgs, k+": "+ErrorsToString(m))
		default:
			msgs = append(msgs, k+": "+LuaToString(v))
		}
	}
	return "Validation error: " + strings.Join(msgs, "; ")
}
