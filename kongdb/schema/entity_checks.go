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
	if (s.Check != nil || s.goCheck != nil) && full {
		return s.runSelfCheck(ctx, input, errs)
	}
	return nil
}

func (s *Schema) runChecks(ctx context.Context, lk fieldLookup, checks []EntityCheck, input map[string]any, full, updating bool, errs map[string]any) error {
	for i := range checks {
		c := &checks[i]
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

func (s *Schema) runEntityCheck(ctx context.Context, lk fieldLookup, c *EntityCheck, input map[string]any, full, updating bool, errs map[string]any) error {
	ck := checkers[c.Name]
	if ck == nil {
		return nil // the definition check rejects unknown checkers
	}
	var names []string
	var required []bool // parallel to names
	if ck.fieldSources != nil {
		argm, _ := c.Arg.(map[string]any)
		for _, src := range ck.fieldSources {
			for _, n := range stringList(argm[src]) {
				names = append(names, n)
				required = append(required, ck.required[src])
			}
		}
	} else {
		names = stringList(c.Arg)
	}

	var missing []string
	allNil, allOK := true, true
	for i, n := range names {
		v := GetPath(input, n)
		if v == nil {
			req := required == nil || required[i]
			if !ck.runWithMissing && !argFlag(c.Arg, "run_with_missing_fields") && req {
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

	// Checkers see only the fields they name: the built-in ones read just
	// those; a custom_entity_check gets a projection (Kong's check_input).
	checkInput := input
	if c.Name == "custom_entity_check" {
		checkInput = map[string]any{}
		for _, n := range names {
			SetPath(checkInput, n, GetPath(input, n))
		}
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
func (s *Schema) runChecker(ctx context.Context, lk fieldLookup, c *EntityCheck, in map[string]any, errs map[string]any) (bool, string, string, error) {
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
		return s.checkConditional(ctx, lk, c, in, errs)
	case "conditional_at_least_one_of":
		return s.checkConditionalAtLeastOneOf(ctx, lk, c, in)
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
func (s *Schema) matchField(lk fieldLookup, c *EntityCheck, which, name string) *Field {
	base := lk(name)
	key := matchKey{c, which, base}
	if s.cache != nil {
		if f, ok := s.cache.match.Load(key); ok {
			return f.(*Field)
		}
	}
	argm, _ := c.Arg.(map[string]any)
	mm, _ := argm[which].(map[string]any)
	f, _ := FieldFromMap("", mm, base)
	if f == nil {
		f = &Field{Type: TypeAny}
	}
	if s.cache != nil {
		s.cache.match.Store(key, f)
	}
	return f
}

func (s *Schema) checkConditional(ctx context.Context, lk fieldLookup, c *EntityCheck, in map[string]any, errs map[string]any) (bool, string, string, error) {
	argm, _ := c.Arg.(map[string]any)
	ifField, _ := argm["if_field"].(string)
	thenField, _ := argm["then_field"].(string)
	ifValue := GetPath(in, ifField)
	thenValue := GetPath(in, thenField)
	if thenValue == nil {
		thenValue = Null
	}
	ifMatch := s.matchField(lk, c, "if_match", ifField)
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
	thenMatch := s.matchField(lk, c, "then_match", thenField)
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

func (s *Schema) checkConditionalAtLeastOneOf(ctx context.Context, lk fieldLookup, c *EntityCheck, in map[string]any) (bool, string, string, error) {
	argm, _ := c.Arg.(map[string]any)
	ifField, _ := argm["if_field"].(string)
	ifValue := GetPath(in, ifField)
	if ifValue == nil {
		return true, "", "", nil
	}
	thenKey, errKey := "then_at_least_one_of", "then_err"
	msg, err := s.validateField(ctx, s.matchField(lk, c, "if_match", ifField), ifValue, false)
	if err != nil {
		return false, "", "", err
	}
	if msg != nil {
		if argm["else_match"] == nil {
			return true, "", "", nil
		}
		msg, err = s.validateField(ctx, s.matchField(lk, c, "else_match", ifField), ifValue, false)
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
	var detail any
	if s.goCheck != nil {
		e := s.goCheck(input)
		if e == nil {
			return nil
		}
		detail = e
	} else {
		res, err := callFunc(ctx, s.Check, input)
		if err != nil {
			return err
		}
		if truthy(ret(res, 0)) {
			return nil
		}
		detail = ret(res, 1)
	}
	switch e := detail.(type) {
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
