package schema

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"math"
	"math/big"
	"time"

	"github.com/google/uuid"
)

// AutoOptions tune ProcessAutoFields (Kong's nulls argument and opts).
type AutoOptions struct {
	// Nulls keeps explicit nulls on select (the Admin API sets it).
	Nulls bool
	// ShowWsID keeps a "ws_id" key on select.
	ShowWsID bool
	// HideShorthands skips re-adding deprecated shorthands on select
	// (Kong sets it for the read-before-write of an update).
	HideShorthands bool
	// NoDefaults leaves missing fields without their default.
	NoDefaults bool
	// Now is the clock for created_at/updated_at; nil = time.Now.
	Now func() time.Time
	// ResolveReference dereferences a vault reference on select (when
	// Nulls is false); nil = references are left as they are.
	ResolveReference func(ctx context.Context, ref string) (string, error)
	// Logger receives the warning for a reference that does not resolve;
	// nil = slog.Default().
	Logger *slog.Logger
}

// ProcessAutoFields is Kong's Schema:process_auto_fields: it expands
// shorthand fields, fills auto values (uuid, random string, created_at,
// updated_at), defaults and nulls, de-duplicates sets and recurses into
// records. Except on select it works on a deep copy. On select it also
// drops nulls (unless Nulls), floors integers, removes "" from strings
// that need a length, and drops keys that are not fields.
//
// shorthandErrs is Kong's error table when a shorthand value is invalid
// (the DAO reports it as a schema violation); err is for Lua functions
// that failed to run.
func (s *Schema) ProcessAutoFields(ctx context.Context, data map[string]any, c Context, o *AutoOptions) (out map[string]any, shorthandErrs map[string]any, err error) {
	if o == nil {
		o = &AutoOptions{}
	}
	isSelect := c == CtxSelect
	if data == nil {
		data = map[string]any{}
	} else if !isSelect {
		// sized for the fields it will get (auto values, defaults), so
		// filling them does not grow the copy
		out := make(map[string]any, max(len(data), len(s.Fields)+2))
		for k, e := range data {
			out[k] = DeepCopy(e)
		}
		data = out
	}

	if len(s.ShorthandFields) > 0 {
		errs, err := s.processShorthands(ctx, data, isSelect, o)
		if err != nil || errs != nil {
			return nil, errs, err
		}
	}

	// created_at and updated_at share one boxed value
	var nowS, nowMS any
	var haveNow bool
	now := func() {
		if !haveNow {
			t := time.Now()
			if o.Now != nil {
				t = o.Now()
			}
			nowS = float64(t.Unix())
			nowMS = float64(t.UnixMilli()) / 1000
			haveNow = true
		}
	}

	var refs map[string]any
	resolve := isSelect && !o.Nulls && o.ResolveReference != nil
	var prevRefs map[string]any
	if resolve {
		prevRefs, _ = data["$refs"].(map[string]any)
	}

	insertish := c == CtxInsert || c == CtxUpsert
	known := 0 // keys of data that are fields (select)
	for _, f := range s.FieldsFor(data) {
		key := f.Name
		value, present := data[key]
		if !present {
			value = nil
		}
		orig := value
		if !isSelect && f.Auto {
			switch {
			case f.UUID:
				if insertish && value == nil {
					value = uuid.NewString()
				}
			case f.Type == TypeString:
				if insertish && value == nil {
					value = RandomString()
				}
			case (key == "created_at" && insertish && (value == nil || IsNull(value))) ||
				(key == "updated_at" && (insertish || c == CtxUpdate)):
				switch f.Type {
				case TypeNumber:
					now()
					value = nowMS
				case TypeInteger:
					now()
					value = nowS
				}
			}
		}

		value, errs, err := s.adjustField(ctx, f, value, c, o)
		if err != nil || errs != nil {
			return nil, errs, err
		}

		if isSelect {
			if IsNull(value) && !o.Nulls {
				value = nil
			} else if n, ok := value.(float64); ok && f.Type == TypeInteger {
				if fl := math.Floor(n); fl != n {
					value = fl
				}
			}
			if resolve {
				refs, err = resolveRefs(ctx, f, &value, refs, prevRefs, o)
				if err != nil {
					return nil, nil, err
				}
			}
			// "" in a string that needs a length reads as null (the
			// schema's own field decides, as Kong's select does)
			if value == "" && refs[key] == nil {
				if tf := s.Field(key); tf != nil && tf.Type == TypeString && (tf.LenMin == nil || *tf.LenMin > 0) {
					value = nil
					if o.Nulls {
						value = Null
					}
				}
			}
		}

		switch {
		case value == nil:
			if present {
				delete(data, key)
			}
		case present && sameScalar(value, orig):
			// unchanged: a select rewrites nothing
		default:
			data[key] = value
		}
		if value != nil {
			known++
		}
	}

	if !isSelect {
		return data, nil, nil
	}

	if s.TTL && IsNull(data["ttl"]) && !o.Nulls {
		delete(data, "ttl")
	}
	// the usual keys that are not fields, without a lookup each
	for _, k := range [2]string{"ttl", "ws_id"} {
		if _, ok := data[k]; ok && s.Field(k) == nil {
			if k == "ttl" && s.TTL || k == "ws_id" && o.ShowWsID {
				known++
			} else {
				delete(data, k)
			}
		}
	}
	if len(data) > known {
		// keys that are not fields: ttl and ws_id when asked for, kept
		// shorthands; the rest goes
		for key := range data {
			if s.Field(key) != nil {
				continue
			}
			if (key == "ttl" && s.TTL) || (key == "ws_id" && o.ShowWsID) {
				continue
			}
			if s.keepsShorthand(key) {
				continue
			}
			delete(data, key)
		}
	}
	if refs != nil {
		data["$refs"] = refs
	}
	return data, nil, nil
}

// sameScalar reports whether a and b are the same string, number or
// boolean (a value a select left as it was).
func sameScalar(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y))
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	return false
}

// keepsShorthand: a deprecated shorthand that maps back to a real field
// stays in select output.
func (s *Schema) keepsShorthand(key string) bool {
	for _, sf := range s.ShorthandFields {
		if sf.Field == nil || sf.Field.Name != key {
			continue
		}
		if len(replacedWith(sf)) > 0 || sf.TranslateBackwards != nil {
			return true
		}
	}
	return false
}

// replacedWith returns deprecation.replaced_with entries.
func replacedWith(sf *ShorthandField) []any {
	if sf.Field == nil || sf.Field.Deprecation == nil {
		return nil
	}
	rw, _ := asArray(sf.Field.Deprecation["replaced_with"])
	return rw
}

func tablePath(t map[string]any, path []string) any {
	var cur any = t
	for _, p := range path {
		m, ok := asTable(cur)
		if !ok {
			return nil
		}
		v, ok := m[p]
		if !ok || v == nil {
			return nil
		}
		cur = v
	}
	return cur
}

func (s *Schema) processShorthands(ctx context.Context, data map[string]any, isSelect bool, o *AutoOptions) (map[string]any, error) {
	var errs map[string]any
	for _, sf := range s.ShorthandFields {
		if sf.Field == nil {
			continue
		}
		name := sf.Field.Name
		if sf.Legacy {
			if value, ok := data[name]; ok && value != nil && sf.Func != nil {
				delete(data, name)
				res, err := callFunc(ctx, sf.Func, value)
				if err != nil {
					return nil, err
				}
				if nv, ok := asTable(ret(res, 0)); ok {
					for k, v := range nv {
						data[k] = v
					}
				}
			}
			continue
		}
		if value, ok := data[name]; ok && value != nil {
			msg, err := s.validateField(ctx, sf.Field, value, false)
			if err != nil {
				return nil, err
			}
			if msg == nil {
				var derr string
				derr, err = s.deprecationExclusive(ctx, data, value, name, sf)
				if err != nil {
					return nil, err
				}
				if derr != "" {
					msg = derr
				}
			}
			if msg != nil {
				if errs == nil {
					errs = map[string]any{}
				}
				errs[name] = msg
			} else {
				delete(data, name)
				if sf.Func != nil {
					res, err := callFunc(ctx, sf.Func, value)
					if err != nil {
						return nil, err
					}
					if nv, ok := asTable(ret(res, 0)); ok {
						mergeShorthand(data, nv, sf.Field.Deprecation != nil)
					}
				}
			}
		}
		if isSelect && !o.HideShorthands {
			if rw := replacedWith(sf); len(rw) > 0 {
				first, _ := rw[0].(map[string]any)
				if fn, ok := first["reverse_mapping_function"].(*Func); ok {
					res, err := callFunc(ctx, fn, data)
					if err != nil {
						return nil, err
					}
					setOrDelete(data, name, ret(res, 0))
				} else {
					setOrDelete(data, name, tablePath(data, stringList(first["path"])))
				}
			} else if sf.TranslateBackwards != nil {
				setOrDelete(data, name, tablePath(data, sf.TranslateBackwards))
			}
		}
	}
	return errs, nil
}

func setOrDelete(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
}

// mergeShorthand merges a shorthand's result: tables into existing
// records; on deprecated shorthands the real field's value wins.
func mergeShorthand(data, nv map[string]any, deprecated bool) {
	for _, k := range sortedMapKeys(nv) {
		v := nv[k]
		if t, ok := asTable(v); ok {
			src := map[string]any{}
			if cur, ok := asTable(data[k]); ok {
				src = cur
			}
			res := map[string]any{}
			if deprecated { // null_aware_table_merge(v, source)
				for kk, vv := range t {
					res[kk] = vv
				}
				for kk, vv := range src {
					if res[kk] == nil || !IsNull(vv) {
						res[kk] = vv
					}
				}
			} else { // table_merge(source, v)
				for kk, vv := range src {
					res[kk] = vv
				}
				for kk, vv := range t {
					res[kk] = vv
				}
			}
			data[k] = res
		} else if !deprecated || data[k] == nil || IsNull(data[k]) {
			data[k] = v
		}
	}
}

func (s *Schema) deprecationExclusive(ctx context.Context, data map[string]any, value any, name string, sf *ShorthandField) (string, error) {
	if value == nil || IsNull(value) || sf.Field.Deprecation == nil {
		return "", nil
	}
	check := func(newValue any, path []string) string {
		if newValue != nil && !IsNull(newValue) && !DeepEqual(newValue, value) {
			return "both deprecated and new field are used but their values mismatch: " +
				name + " = " + LuaToString(value) + " vs " + joinPath(path) + " = " + LuaToString(newValue)
		}
		return ""
	}
	if rw := replacedWith(sf); rw != nil {
		for _, e := range rw {
			m, _ := e.(map[string]any)
			path := stringList(m["path"])
			var nv any
			if fn, ok := m["reverse_mapping_function"].(*Func); ok {
				res, err := callFunc(ctx, fn, data)
				if err != nil {
					return "", err
				}
				nv = ret(res, 0)
			} else {
				nv = tablePath(data, path)
			}
			if msg := check(nv, path); msg != "" {
				return msg, nil
			}
		}
		return "", nil
	}
	if sf.TranslateBackwards != nil {
		return check(tablePath(data, sf.TranslateBackwards), sf.TranslateBackwards), nil
	}
	return "", nil
}

func joinPath(p []string) string {
	out := ""
	for i, e := range p {
		if i > 0 {
			out += "."
		}
		out += e
	}
	return out
}

func shouldRecurseRecord(c Context, v any, f *Field) bool {
	if c == CtxUpdate {
		return v != nil && !IsNull(v)
	}
	return !IsNull(v) && (v != nil || f.Required)
}

// adjustField is Kong's adjust_field_for_context.
func (s *Schema) adjustField(ctx context.Context, f *Field, v any, c Context, o *AutoOptions) (any, map[string]any, error) {
	if c == CtxSelect && IsNull(v) && f.Required {
		return s.missingField(ctx, f, v, o)
	}
	if f.Abstract {
		return v, nil, nil
	}
	switch {
	case f.Type == TypeRecord:
		if shouldRecurseRecord(c, v, f) {
			if v == nil {
				var errs map[string]any
				var err error
				v, errs, err = s.missingField(ctx, f, v, o)
				if err != nil || errs != nil {
					return nil, errs, err
				}
			}
			if m, ok := asTable(v); ok {
				out, errs, err := f.RecordSchema().ProcessAutoFields(ctx, m, c, o)
				if err != nil || errs != nil {
					return nil, errs, err
				}
				return out, nil, nil
			}
		}
	case isTable(v):
		var sub *Field
		switch f.Type {
		case TypeArray:
			sub = f.Elements
		case TypeSet:
			sub = f.Elements
			if arr, ok := v.([]any); ok {
				v = dedupe(arr)
			}
		case TypeMap:
			sub = f.Values
		}
		if sub != nil {
			switch t := v.(type) {
			case []any:
				for i, e := range t {
					ne, errs, err := s.adjustField(ctx, sub, e, c, o)
					if err != nil || errs != nil {
						return nil, errs, err
					}
					t[i] = ne
				}
			case map[string]any:
				for k, e := range t {
					ne, errs, err := s.adjustField(ctx, sub, e, c, o)
					if err != nil || errs != nil {
						return nil, errs, err
					}
					setOrDelete(t, k, ne)
				}
			}
		}
	}
	if v == nil && c != CtxUpdate {
		return s.missingField(ctx, f, v, o)
	}
	return v, nil, nil
}

// dedupe removes repeated set members, first occurrence wins.
func dedupe(arr []any) []any {
	out := arr[:0:0]
	for _, v := range arr {
		dup := false
		for _, o := range out {
			if luaEqual(o, v) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

// missingField is Kong's handle_missing_field.
func (s *Schema) missingField(ctx context.Context, f *Field, v any, o *AutoOptions) (any, map[string]any, error) {
	if f.HasDefault && f.Default != nil && !o.NoDefaults {
		d := DeepCopy(f.Default)
		if (f.Type == TypeArray || f.Type == TypeSet) && d != nil {
			if m, ok := d.(map[string]any); ok && len(m) == 0 {
				d = []any{}
			}
		}
		return d, nil, nil
	}
	if f.Nilable {
		return v, nil, nil
	}
	if !f.Required {
		return Null, nil, nil
	}
	if f.Abstract {
		return nil, nil, nil
	}
	if f.Type == TypeRecord {
		out, errs, err := f.RecordSchema().ProcessAutoFields(ctx, map[string]any{}, CtxInsert, nil)
		if err != nil || errs != nil {
			return nil, errs, err
		}
		return out, nil, nil
	}
	return nil, nil, nil
}

func resolveRefs(ctx context.Context, f *Field, value *any, refs, prev map[string]any, o *AutoOptions) (map[string]any, error) {
	key := f.Name
	keepPrev := func() {
		if prev != nil && prev[key] != nil {
			if refs == nil {
				refs = map[string]any{}
			}
			if refs[key] == nil {
				refs[key] = prev[key]
			}
		}
	}
	// Kong's resolve_reference: a reference that does not resolve reads
	// as "" (kept as "" even where a string needs a length, since $refs
	// names it), with a warning
	deref := func(ref string) string {
		v, err := o.ResolveReference(ctx, ref)
		if err != nil {
			log := o.Logger
			if log == nil {
				log = slog.Default()
			}
			log.Warn("unable to resolve reference " + ref + " (" + err.Error() + ")")
			return ""
		}
		return v
	}
	switch f.Type {
	case TypeString:
		if !f.Referenceable {
			return refs, nil
		}
		if IsReference(*value) {
			if refs == nil {
				refs = map[string]any{}
			}
			refs[key] = *value
			*value = deref((*value).(string))
		} else {
			keepPrev()
		}
	case TypeArray, TypeSet:
		arr, ok := (*value).([]any)
		if !ok || f.Elements == nil || f.Elements.Type != TypeString || !f.Elements.Referenceable {
			return refs, nil
		}
		for i, e := range arr {
			if IsReference(e) {
				if refs == nil {
					refs = map[string]any{}
				}
				r, _ := refs[key].([]any)
				for len(r) <= i {
					r = append(r, nil)
				}
				r[i] = e
				refs[key] = r
				arr[i] = deref(e.(string))
			}
		}
		keepPrev()
	case TypeMap:
		m, ok := (*value).(map[string]any)
		if !ok || f.Values == nil || f.Values.Type != TypeString || !f.Values.Referenceable {
			return refs, nil
		}
		for k, e := range m {
			if IsReference(e) {
				if refs == nil {
					refs = map[string]any{}
				}
				r, _ := refs[key].(map[string]any)
				if r == nil {
					r = map[string]any{}
					refs[key] = r
				}
				r[k] = e
				m[k] = deref(e.(string))
			}
		}
		keepPrev()
	}
	return refs, nil
}

// RandomString is Kong's rand.random_string: 32 characters from base64 of
// 24 random bytes, with '/' and '+' replaced by random letters.
func RandomString() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	out := []byte(base64.RawStdEncoding.EncodeToString(b[:]))
	for i, c := range out {
		switch c {
		case '/':
			out[i] = byte('A' + randN(26))
		case '+':
			out[i] = byte('a' + randN(26))
		}
	}
	return string(out)
}

func randN(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		return 0
	}
	return v.Int64()
}
