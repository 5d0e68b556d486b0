package schema

import (
	"context"
	"strings"
)

// checker describes one of Kong's entity checkers (Schema.entity_checkers).
type checker struct {
	runWithMissing bool
	runWithInvalid bool
	// fieldSources: arg keys naming the checked fields; nil = arg is the
	// list of names, all required.
	fieldSources []string
	required     map[string]bool // which sources are required
	msg          string          // message format; "" = the checker's own message
}

var checkers = map[string]*checker{
	"at_least_one_of": {runWithMissing: true, runWithInvalid: true, msg: MsgAtLeastOneOf},
	"conditional_at_least_one_of": {runWithMissing: true, runWithInvalid: true,
		fieldSources: []string{"if_field", "then_at_least_one_of", "else_then_at_least_one_of"},
		required:     map[string]bool{}, // Kong lists it as an array: no source counts as required
		msg:          MsgAtLeastOneOf},
	"only_one_of": {runWithInvalid: true, msg: MsgOnlyOneOf},
	"distinct":    {runWithInvalid: true, msg: MsgDistinct},
	"conditional": {runWithInvalid: true, fieldSources: []string{"if_field", "then_field"},
		required: map[string]bool{"if_field": true}, msg: MsgConditional},
	"custom_entity_check": {fieldSources: []string{"field_sources"},
		required: map[string]bool{"field_sources": true}},
	"mutually_required":  {runWithMissing: true, msg: MsgMutuallyRequired},
	"mutually_exclusive": {runWithMissing: true, msg: MsgMutuallyExclusive},
	"mutually_exclusive_sets": {runWithMissing: true, fieldSources: []string{"set1", "set2"},
		required: map[string]bool{}, msg: MsgMutuallyExclusiveSets},
}

// IsEntityChecker reports whether name is one of Kong's entity checkers.
func IsEntityChecker(name string) bool { return checkers[name] != nil }

// fieldLookup finds a (possibly dotted) field definition.
type fieldLookup func(name string) *Field

func (s *Schema) lookup(sub *Schema) fieldLookup {
	var top func(string) *Field
	if sub == nil {
		top = s.Field
	} else {
		top = func(n string) *Field {
			if f := sub.Field(n); f != nil {
				return f
			}
			return s.Field(n)
		}
	}
	return func(name string) *Field {
		hd, tl, dotted := strings.Cut(name, ".")
		f := top(hd)
		for dotted && f != nil {
			if f.Type != TypeRecord {
				return nil
			}
			hd, tl, dotted = strings.Cut(tl, ".")
			f = f.RecordSchema().Field(hd)
		}
		return f
	}
}

func addEntityError(errs map[string]any, msg string) {
	l, _ := errs["@entity"].([]any)
	errs["@entity"] = append(l, msg)
}

func (s *Schema) runEntityChecks(ctx context.Context, input map[string]any, full, updating bool, errs map[string]any) error {
	if err := s.runChecks(ctx, s.lookup(nil), s.EntityChecks, input, full, updating, errs); err != nil {
		return err
	}
	if sub := s.SubschemaFor(input); sub != nil {
		if err := s.runChecks(ctx, s.lookup(sub), sub.EntityChecks, input, full, updating, errs); err != nil {
			return err
		}
	}
	if s.Check != nil && full {
		return s.runSelfCheck(ctx, input, errs)
	}
	return nil
}

func (s *Schema) runChecks(ctx context.Context, lk fieldLookup, checks []EntityCheck, input map[string]any, full, updating bool, errs map[string]any) error {
	for _, c := range checks {
		if c.Arg == nil || IsNull(c.Arg) {
			continue
		}
		if err := s.runEntityCheck(ctx, lk, c, input, full, updating, errs); err != nil {
			return err
		}
	}
	return nil
}

func argFlag(arg any, name string) bool {
	m, ok := arg.(map[string]any)
	return ok && truthy(m[name])
}

func (s *Schema) runEntityCheck(ctx context.Context, lk fieldLookup, c EntityCheck, input map[string]any, full, updating bool, errs map[string]any) error {
	ck := checkers[c.Name]
	if ck == nil {
		return nil // the definition check rejects unknown checkers
	}
	var names []string
	required := map[string]bool{}
	if ck.fieldSources != nil {
		argm, _ := c.Arg.(map[string]any)
		for _, src := range ck.fieldSources {
			for _, n := range stringList(argm[src]) {
				names = append(names, n)
				if ck.required[src] {
					required[n] = true
				}
			}
		}
	} else {
		names = stringList(c.Arg)
		for _, n := range names {
			required[n] = true
		}
	}

	checkInput := map[string]any{}
	var missing []string
	allNil, allOK := true, true
	for _, n := range names {
		v := GetPath(input, n)
		if v == nil {
			if !ck.runWithMissing && !argFlag(c.Arg, "run_with_missing_fields") && required[n] {
				if f := lk(n); f == nil || !f.Nilable {
					missing = append(missing, n)
				}
			}
		} else {
			allNil = false
			if f := lk(n); f != nil && f.Type == TypeString && f.Referenceable && IsReference(v) {
				return nil
			}
		}
		if errs[n] != nil { // Kong looks the dotted name up flat
			allOK = false
		}
		SetPath(checkInput, n, v)
	}
	if !allOK && !ck.runWithInvalid && !argFlag(c.Arg, "run_with_invalid_fields") {
		return nil
	}
	if allNil && !(ck.runWithMissing && full) {
		return nil
	}
	if missing != nil {
		msg := MsgRequiredForEntityCheck
		if updating {
			msg += " when updating"
		}
		for _, n := range missing {
			SetPath(errs, n, msg)
		}
		return nil
	}

	ok, detail, custom, err := s.runChecker(ctx, lk, c, checkInput, errs)
	if err != nil || ok {
		return err
	}
	if custom != "" {
		addEntityError(errs, custom)
		return nil
	}
	msg := detail
	if ck.msg != "" {
		format := ck.msg
		if updating && (c.Name == "at_least_one_of" || c.Name == "conditional_at_least_one_of") {
			format = "when updating, " + format
		}
		msg = LuaFormat(format, detail)
	}
	if msg == "" {
		msg = LuaFormat(MsgEntityCheck, c.Name, prettyArg(c.Name, c.Arg))
	}
	addEntityError(errs, msg)
	return nil
}

// prettyArg approximates pretty.write({ name = arg }) with whitespace
// collapsed, as Kong prints a check that produced no message.
func prettyArg(name string, arg any) string {
	return "{ " + name + " = " + strings.Join(strings.Fields(LuaToString(arg)), " ") + " }"
}

// runChecker runs one checker over the projected input. It returns ok, the
// detail for the message format, and a custom message (then_err...).
func (s *Schema) runChecker(ctx context.Context, lk fieldLookup, c EntityCheck, in map[string]any, errs map[string]any) (bool, string, string, error) {
	switch c.Name {
	case "at_least_one_of":
		names := stringList(c.Arg)
		for _, n := range names {
			if IsNonEmpty(GetPath(in, n)) {
				return true, "", "", nil
			}
		}
		return false, quotedList(strsToAny(names)), "", nil
	case "only_one_of":
		names := stringList(c.Arg)
		found, ok := false, false
		for _, n := range names {
			if IsNonEmpty(GetPath(in, n)) {
				if !found {
					found, ok = true, true
				} else {
					ok = false
				}
			}
		}
		if ok {
			return true, "", "", nil
		}
		return false, quotedList(strsToAny(names)), "", nil
	case "distinct":
		names := stringList(c.Arg)
		var seen []any
		for _, n := range names {
			v := GetPath(in, n)
			if !IsNonEmpty(v) {
				continue
			}
			for _, o := range seen {
				if luaEqual(o, v) {
					return false, quotedList(strsToAny(names)), "", nil
				}
			}
			seen = append(seen, v)
		}
		return true, "", "", nil
	case "mutually_required", "mutually_exclusive":
		names := stringList(c.Arg)
		n := 0
		for _, name := range names {
			if IsNonEmpty(GetPath(in, name)) {
				n++
			}
		}
		if n == 0 || (c.Name == "mutually_required" && n == len(names)) ||
			(c.Name == "mutually_exclusive" && n == 1) {
			return true, "", "", nil
		}
		return false, quotedList(strsToAny(names)), "", nil
	case "mutually_exclusive_sets":
		argm, _ := c.Arg.(map[string]any)
		var ne1, ne2 []any
		for _, n := range stringList(argm["set1"]) {
			if IsNonEmpty(GetPath(in, n)) {
				ne1 = append(ne1, n)
			}
		}
		for _, n := range stringList(argm["set2"]) {
			if IsNonEmpty(GetPath(in, n)) {
				ne2 = append(ne2, n)
			}
		}
		if len(ne1) > 0 && len(ne2) > 0 {
			return false, "(" + quotedList(ne1) + "), (" + quotedList(ne2) + ")", "", nil
		}
		return true, "", "", nil
	case "conditional":
		return s.checkConditional(ctx, lk, c.Arg, in, errs)
	case "conditional_at_least_one_of":
		return s.checkConditionalAtLeastOneOf(ctx, lk, c.Arg, in)
	case "custom_entity_check":
		argm, _ := c.Arg.(map[string]any)
		fn, _ := argm["fn"].(*Func)
		if fn == nil {
			return true, "", "", nil
		}
		res, err := callFunc(ctx, fn, in)
		if err != nil {
			return false, "", "", err
		}
		if truthy(ret(res, 0)) {
			return true, "", "", nil
		}
		msg, _ := ret(res, 1).(string)
		return false, msg, "", nil
	}
	return true, "", "", nil
}

// matchField builds the field an if_match / then_match table describes:
// the table's attributes over the schema field's (Kong sets the schema
// field as the __index of the match table).
func matchField(lk fieldLookup, name string, m any) *Field {
	base := lk(name)
	mm, _ := m.(map[string]any)
	f, _ := FieldFromMap("", mm, base)
	if f == nil {
		f = &Field{Type: TypeAny}
	}
	return f
}

func (s *Schema) checkConditional(ctx context.Context, lk fieldLookup, arg any, in map[string]any, errs map[string]any) (bool, string, string, error) {
	argm, _ := arg.(map[string]any)
	ifField, _ := argm["if_field"].(string)
	thenField, _ := argm["then_field"].(string)
	ifValue := GetPath(in, ifField)
	thenValue := GetPath(in, thenField)
	if thenValue == nil {
		thenValue = Null
	}
	ifMatch := matchField(lk, ifField, argm["if_match"])
	msg, err := s.validateField(ctx, ifMatch, ifValue, false)
	if err != nil {
		return false, "", "", err
	}
	if msg != nil {
		return true, "", "", nil
	}
	thenMatchMap, _ := argm["then_match"].(map[string]any)
	if truthy(thenMatchMap["required"]) && IsNull(thenValue) {
		SetPath(errs, thenField, MsgRequired)
		return false, ifField, "", nil
	}
	thenMatch := matchField(lk, thenField, argm["then_match"])
	msg, err = s.validateField(ctx, thenMatch, thenValue, false)
	if err != nil {
		return false, "", "", err
	}
	if msg != nil {
		SetPath(errs, thenField, msg)
		custom := ""
		if te, ok := argm["then_err"].(string); ok {
			custom = LuaFormat(te, ifField)
		}
		return false, ifField, custom, nil
	}
	return true, "", "", nil
}

func (s *Schema) checkConditionalAtLeastOneOf(ctx context.Context, lk fieldLookup, arg any, in map[string]any) (bool, string, string, error) {
	argm, _ := arg.(map[string]any)
	ifField, _ := argm["if_field"].(string)
	ifValue := GetPath(in, ifField)
	if ifValue == nil {
		return true, "", "", nil
	}
	thenKey, errKey := "then_at_least_one_of", "then_err"
	msg, err := s.validateField(ctx, matchField(lk, ifField, argm["if_match"]), ifValue, false)
	if err != nil {
		return false, "", "", err
	}
	if msg != nil {
		if argm["else_match"] == nil {
			return true, "", "", nil
		}
		msg, err = s.validateField(ctx, matchField(lk, ifField, argm["else_match"]), ifValue, false)
		if err != nil {
			return false, "", "", err
		}
		if msg != nil {
			return true, "", "", nil
		}
		thenKey, errKey = "else_then_at_least_one_of", "else_then_err"
	}
	names := stringList(argm[thenKey])
	for _, n := range names {
		if IsNonEmpty(GetPath(in, n)) {
			return true, "", "", nil
		}
	}
	list := quotedList(strsToAny(names))
	custom := ""
	if te, ok := argm[errKey].(string); ok {
		custom = LuaFormat(te, list)
	}
	return false, list, custom, nil
}

// runSelfCheck runs the schema's legacy check(entity) function.
func (s *Schema) runSelfCheck(ctx context.Context, input map[string]any, errs map[string]any) error {
	ok := true
	for _, f := range s.Fields {
		if _, present := input[f.Name]; !present && !f.Nilable {
			errs[f.Name] = MsgRequiredForEntityCheck
			ok = false
		}
	}
	if !ok {
		return nil
	}
	res, err := callFunc(ctx, s.Check, input)
	if err != nil {
		return err
	}
	if truthy(ret(res, 0)) {
		return nil
	}
	switch e := ret(res, 1).(type) {
	case string:
		addEntityError(errs, e)
	case []any:
		for _, m := range e {
			addEntityError(errs, LuaToString(m))
		}
	case map[string]any:
		for _, k := range sortedMapKeys(e) {
			errs[k] = e[k]
		}
	default:
		addEntityError(errs, MsgCheck)
	}
	return nil
}

// runTransformationChecks enforces that a transformation's input fields
// (and needs, when they changed against the read-before-write entity) are
// given together.
func (s *Schema) runTransformationChecks(input, original, rbw map[string]any, errs map[string]any) {
	src := input
	if original != nil {
		src = original
	}
	for _, t := range s.Transformations {
		if t.Input == nil && t.Needs == nil {
			continue
		}
		var args []string
		noneSet := true
		for _, n := range t.Input {
			if IsNonEmpty(GetPath(src, n)) {
				noneSet = false
			}
			args = append(args, n)
		}
		needsChanged := false
		for _, n := range t.Needs {
			if rbw != nil && !needsChanged && !luaEqual(GetPath(src, n), GetPath(rbw, n)) {
				needsChanged = true
			}
			args = append(args, n)
		}
		if !needsChanged && noneSet {
			continue
		}
		target := input
		if needsChanged && original != nil {
			target = original
		}
		if !mutuallyRequired(target, args) {
			addEntityError(errs, LuaFormat(MsgMutuallyRequired, quotedList(strsToAny(args))))
		} else if !mutuallyRequired(src, t.Input) {
			addEntityError(errs, LuaFormat(MsgMutuallyRequired, quotedList(strsToAny(t.Input))))
		}
	}
	if sub := s.SubschemaFor(input); sub != nil {
		sub.runTransformationChecks(input, original, rbw, errs)
	}
}

func mutuallyRequired(entity map[string]any, names []string) bool {
	n := 0
	for _, name := range names {
		if IsNonEmpty(GetPath(entity, name)) {
			n++
		}
	}
	return n == 0 || n == len(names)
}
