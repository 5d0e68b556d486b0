package schema

import (
	"context"
	"testing"
)

func checkSchema(t *testing.T, checks a, fs ...any) *Schema {
	t.Helper()
	return mustSchema(t, m{"name": "t", "primary_key": a{"a"}, "fields": fields(fs...), "entity_checks": checks})
}

var abc = []any{
	"a", m{"type": "string"},
	"b", m{"type": "string"},
	"c", m{"type": "string"},
}

func TestEntityCheckers(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		check  m
		input  m
		full   bool
		update bool
		want   m
	}{
		{"at_least_one_of fails", m{"at_least_one_of": a{"a", "b"}}, m{"c": "x"}, true, false,
			m{"@entity": a{"at least one of these fields must be non-empty: 'a', 'b'"}}},
		{"at_least_one_of empty string counts as empty", m{"at_least_one_of": a{"a", "b"}}, m{"a": Null, "b": Null}, true, false,
			m{"@entity": a{"at least one of these fields must be non-empty: 'a', 'b'"}}},
		{"at_least_one_of ok", m{"at_least_one_of": a{"a", "b"}}, m{"b": "x"}, true, false, nil},
		{"at_least_one_of skipped on partial update with nothing given", m{"at_least_one_of": a{"a", "b"}}, m{"c": "x"}, false, true, nil},
		{"at_least_one_of when updating", m{"at_least_one_of": a{"a", "b"}}, m{"a": Null}, false, true,
			m{"@entity": a{"when updating, at least one of these fields must be non-empty: 'a', 'b'"}}},
		{"only_one_of both", m{"only_one_of": a{"a", "b"}}, m{"a": "x", "b": "y"}, true, false,
			m{"@entity": a{"exactly one of these fields must be non-empty: 'a', 'b'"}}},
		{"only_one_of needs every field", m{"only_one_of": a{"a", "b"}}, m{"a": "x"}, true, false,
			m{"b": "field required for entity check"}},
		{"only_one_of needs every field when updating", m{"only_one_of": a{"a", "b"}}, m{"a": "x"}, false, true,
			m{"b": "field required for entity check when updating"}},
		{"distinct", m{"distinct": a{"a", "b"}}, m{"a": "x", "b": "x"}, true, false,
			m{"@entity": a{"values of these fields must be distinct: 'a', 'b'"}}},
		{"mutually_required", m{"mutually_required": a{"a", "b"}}, m{"a": "x"}, true, false,
			m{"@entity": a{"all or none of these fields must be set: 'a', 'b'"}}},
		{"mutually_exclusive", m{"mutually_exclusive": a{"a", "b", "c"}}, m{"a": "x", "c": "y"}, true, false,
			m{"@entity": a{"only one or none of these fields must be set: 'a', 'b', 'c'"}}},
		{"mutually_exclusive_sets", m{"mutually_exclusive_sets": m{"set1": a{"a", "b"}, "set2": a{"c"}}}, m{"a": "x", "c": "y"}, true, false,
			m{"@entity": a{"these sets are mutually exclusive: ('a'), ('c')"}}},
		{"conditional required", m{"conditional": m{"if_field": "a", "if_match": m{"eq": "redis"}, "then_field": "b", "then_match": m{"required": true}}},
			m{"a": "redis", "b": Null}, true, false,
			m{"b": "required field missing", "@entity": a{"failed conditional validation given value of field 'a'"}}},
		{"conditional not triggered", m{"conditional": m{"if_field": "a", "if_match": m{"eq": "redis"}, "then_field": "b", "then_match": m{"required": true}}},
			m{"a": "local", "b": Null}, true, false, nil},
		{"conditional then_match validator and then_err", m{"conditional": m{"if_field": "a", "if_match": m{"match": "^r"}, "then_field": "b", "then_match": m{"eq": Null}, "then_err": "b must be unset when %s is redis-like"}},
			m{"a": "redis", "b": "x"}, true, false,
			m{"b": "value must be null", "@entity": a{"b must be unset when a is redis-like"}}},
		{"conditional runs with an invalid field", m{"conditional": m{"if_field": "a", "if_match": m{"eq": "x"}, "then_field": "b", "then_match": m{"required": true}}},
			m{"a": "x", "b": Null, "c": 1.0}, true, false,
			m{"b": "required field missing", "c": "expected a string", "@entity": a{"failed conditional validation given value of field 'a'"}}},
		{"conditional_at_least_one_of", m{"conditional_at_least_one_of": m{"if_field": "a", "if_match": m{"eq": "x"}, "then_at_least_one_of": a{"b", "c"}}},
			m{"a": "x"}, true, false,
			m{"@entity": a{"at least one of these fields must be non-empty: 'b', 'c'"}}},
		{"conditional_at_least_one_of else", m{"conditional_at_least_one_of": m{"if_field": "a", "if_match": m{"eq": "x"}, "then_at_least_one_of": a{"b"},
			"else_match": m{"eq": "y"}, "else_then_at_least_one_of": a{"c"}, "else_then_err": "need %s"}},
			m{"a": "y"}, true, false,
			m{"@entity": a{"need 'c'"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := checkSchema(t, a{c.check}, abc...)
			var errs map[string]any
			var err error
			if c.update {
				errs, err = s.ValidateUpdate(ctx, c.input, nil, nil)
			} else {
				errs, err = s.Validate(ctx, c.input, c.full)
			}
			wantErrs(t, errs, err, c.want)
		})
	}
}

func TestCustomEntityCheck(t *testing.T) {
	var seen map[string]any
	r := goRunner{"chk": func(args ...any) []any {
		seen = args[0].(map[string]any)
		if seen["a"] == seen["b"] {
			return a{nil, "a and b must differ"}
		}
		return a{true}
	}}
	s := checkSchema(t, a{m{"custom_entity_check": m{"field_sources": a{"a", "b"}, "fn": &Func{Ref: "chk"}}}}, abc...)
	errs, err := s.Validate(ctxWith(r), m{"a": "x", "b": "x", "c": "hidden"}, true)
	wantErrs(t, errs, err, m{"@entity": a{"a and b must differ"}})
	if _, leaked := seen["c"]; leaked || len(seen) != 2 {
		t.Fatalf("the check saw %v; it must see only its field_sources", seen)
	}
	// An invalid source field skips the check.
	errs, err = s.Validate(ctxWith(r), m{"a": 1.0, "b": "x"}, true)
	wantErrs(t, errs, err, m{"a": "expected a string"})
}

func TestDottedEntityCheck(t *testing.T) {
	s := mustSchema(t, m{"name": "p", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string"},
		"config", m{"type": "record", "fields": fields(
			"policy", m{"type": "string", "default": "local"},
			"redis_host", m{"type": "string"},
		)},
	), "entity_checks": a{m{"conditional": m{"if_field": "config.policy", "if_match": m{"eq": "redis"},
		"then_field": "config.redis_host", "then_match": m{"required": true}}}}})
	errs, err := s.Validate(context.Background(), m{"id": "x", "config": m{"policy": "redis", "redis_host": Null}}, true)
	wantErrs(t, errs, err, m{
		"config":  m{"redis_host": "required field missing"},
		"@entity": a{"failed conditional validation given value of field 'config.policy'"},
	})
}

func TestSelfCheck(t *testing.T) {
	r := goRunner{"check": func(args ...any) []any {
		return a{nil, m{"a": "bad a"}}
	}}
	s := mustSchema(t, m{"name": "t", "primary_key": a{"a"}, "fields": fields("a", m{"type": "string"}), "check": &Func{Ref: "check"}})
	errs, err := s.Validate(ctxWith(r), m{"a": "x"}, true)
	wantErrs(t, errs, err, m{"a": "bad a"})
	errs, err = s.Validate(ctxWith(r), m{}, true)
	wantErrs(t, errs, err, m{"a": "field required for entity check"})
	errs, err = s.Validate(ctxWith(r), m{"a": "x"}, false) // partial: no self check
	wantErrs(t, errs, err, nil)
}

func TestConditionalOnSetElements(t *testing.T) {
	s := checkSchema(t, a{m{"conditional": m{"if_field": "a_set",
		"if_match":   m{"elements": m{"type": "string", "one_of": a{"foo"}}},
		"then_field": "redis_host", "then_match": m{"eq": "host_foo"}}}},
		"redis_host", m{"type": "string"},
		"a_set", m{"type": "set", "elements": m{"type": "string", "one_of": a{"foo", "bar"}, "not_one_of": a{"forbidden", "also_forbidden"}}},
		"a", m{"type": "string"},
	)
	ctx := context.Background()
	for _, c := range []struct{ in, want m }{
		{m{"a_set": a{"foo"}, "redis_host": "host_foo"}, nil},
		{m{"a_set": a{"foo"}, "redis_host": "host_bar"}, m{"redis_host": "value must be host_foo",
			"@entity": a{"failed conditional validation given value of field 'a_set'"}}},
		{m{"a_set": a{"bar"}, "redis_host": "any_other_host"}, nil},
		{m{"a_set": a{"forbidden"}, "redis_host": "host_foo"}, m{"a_set": a{"must not be one of: forbidden, also_forbidden"}}},
	} {
		errs, err := s.ValidateUpdate(ctx, c.in, nil, nil)
		wantErrs(t, errs, err, c.want)
	}
}

func TestCustomEntityCheckRules(t *testing.T) {
	r := goRunner{"fn": func(args ...any) []any {
		e := args[0].(map[string]any)
		if aaa, ok := e["aaa"]; ok && aaa != "abcd" {
			return a{nil, "oh no"}
		}
		if e["bbb"] == "12345678" && e["ccc"] == 2.0 {
			return a{true}
		}
		return a{nil, "oh no"}
	}}
	ctx := ctxWith(r)
	fs := []any{
		"aaa", m{"type": "string", "len_min": 4.0},
		"bbb", m{"type": "string", "len_min": 8.0},
		"ccc", m{"type": "number", "between": a{0.0, 10.0}},
	}
	plain := checkSchema(t, a{m{"custom_entity_check": m{"field_sources": a{"bbb", "ccc"}, "fn": &Func{Ref: "fn"}}}}, fs...)
	// fields with errors: the check does not run
	errs, err := plain.ValidateUpdate(ctx, m{"aaa": "barr", "bbb": "foo", "ccc": 42.0}, nil, nil)
	wantErrs(t, errs, err, m{"bbb": "length must be at least 8", "ccc": "value should be between 0 and 10"})
	// a missing source field
	errs, err = plain.Validate(ctx, m{"bbb": "12345678"}, true)
	wantErrs(t, errs, err, m{"ccc": "field required for entity check"})
	errs, err = plain.ValidateUpdate(ctx, m{"bbb": "12345678"}, nil, nil)
	wantErrs(t, errs, err, m{"ccc": "field required for entity check when updating"})
	// none of its fields given on update: skipped
	errs, err = plain.ValidateUpdate(ctx, m{"aaa": Null}, nil, nil)
	wantErrs(t, errs, err, nil)
	errs, err = plain.ValidateUpdate(ctx, m{"bbb": "AAAAAAAA", "ccc": 9.0}, nil, nil)
	wantErrs(t, errs, err, m{"@entity": a{"oh no"}})

	// run_with_missing_fields lets it run without aaa
	withMissing := checkSchema(t, a{m{"custom_entity_check": m{"run_with_missing_fields": true,
		"field_sources": a{"aaa", "bbb", "ccc"}, "fn": &Func{Ref: "fn"}}}}, fs...)
	errs, err = withMissing.ValidateUpdate(ctx, m{"bbb": "12345678", "ccc": 2.0}, nil, nil)
	wantErrs(t, errs, err, nil)
	errs, err = withMissing.ValidateUpdate(ctx, m{"aaa": "xxxxxxxx", "bbb": "12345678", "ccc": 2.0}, nil, nil)
	wantErrs(t, errs, err, m{"@entity": a{"oh no"}})
}
