package schema

import (
	"context"
	"errors"
	"testing"
)

func TestFieldTypesAndValidators(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		field m
		value any
		want  any // nil = valid
	}{
		{"string ok", m{"type": "string"}, "x", nil},
		{"string type", m{"type": "string"}, 1.0, "expected a string"},
		{"empty string rejected by default", m{"type": "string"}, "", "length must be at least 1"},
		{"empty string with len_min 0", m{"type": "string", "len_min": 0.0}, "", nil},
		{"number type", m{"type": "number"}, "1", "expected a number"},
		{"integer", m{"type": "integer"}, 1.5, "expected an integer"},
		{"integer ok", m{"type": "integer"}, 3.0, nil},
		{"boolean", m{"type": "boolean"}, "true", "expected a boolean"},
		{"array type", m{"type": "array", "elements": m{"type": "string"}}, "x", "expected an array"},
		{"set type", m{"type": "set", "elements": m{"type": "string"}}, m{"a": 1.0}, "expected a set"},
		{"a hole is not a sequence", m{"type": "array", "elements": m{"type": "number"}}, a{nil, 1.0}, "expected an array"},
		{"empty table is an array", m{"type": "array", "elements": m{"type": "string"}}, m{}, nil},
		{"map type", m{"type": "map", "keys": m{"type": "string"}, "values": m{"type": "string"}}, "x", "expected a map"},
		{"record type", m{"type": "record", "fields": a{}}, 1.0, "expected a record"},
		{"null is fine when optional", m{"type": "string"}, Null, nil},
		{"null required", m{"type": "string", "required": true}, Null, "required field missing"},
		{"eq", m{"type": "string", "eq": "a"}, "b", "value must be a"},
		{"eq null", m{"type": "string", "eq": Null}, "b", "value must be null"},
		{"eq null passes null", m{"type": "string", "eq": Null}, Null, nil},
		{"ne", m{"type": "number", "ne": 3.0}, 3.0, "value must not be 3"},
		{"ne null", m{"type": "string", "ne": Null}, Null, "value must not be null"},
		{"gt", m{"type": "number", "gt": 1.5}, 1.0, "value must be greater than 1.5"},
		{"between", m{"type": "integer", "between": a{0.0, 65535.0}}, 70000.0, "value should be between 0 and 65535"},
		{"one_of", m{"type": "string", "one_of": a{"http", "https"}}, "ftp", "expected one of: http, https"},
		{"not_one_of", m{"type": "string", "not_one_of": a{"a", "b"}}, "a", "must not be one of: a, b"},
		{"len_eq", m{"type": "string", "len_eq": 3.0}, "ab", "length must be 3"},
		{"len_max", m{"type": "string", "len_max": 2.0}, "abc", "length must be at most 2"},
		{"len_min array", m{"type": "array", "elements": m{"type": "string"}, "len_min": 2.0}, a{"x"}, "length must be at least 2"},
		{"len_max map", m{"type": "map", "keys": m{"type": "string"}, "values": m{"type": "string"}, "len_max": 1.0}, m{"a": "1", "b": "2"}, "length must be at most 1"},
		{"starts_with", m{"type": "string", "starts_with": "/"}, "x", "should start with: /"},
		{"match", m{"type": "string", "match": "^%u+$"}, "get", "invalid value: get"},
		{"not_match", m{"type": "string", "not_match": "%s"}, "a b", "invalid value: a b"},
		{"match_none", m{"type": "string", "match_none": a{m{"pattern": "//", "err": "must not have empty segments"}}}, "/a//b", "must not have empty segments"},
		{"match_all", m{"type": "string", "match_all": a{m{"pattern": "^/", "err": "must start with /"}}}, "a", "must start with /"},
		{"match_any", m{"type": "string", "match_any": m{"patterns": a{"^/", "^~"}, "err": "bad path"}}, "a", "bad path"},
		{"match_any ok", m{"type": "string", "match_any": m{"patterns": a{"^/", "^~"}, "err": "bad path"}}, "~/x", nil},
		{"contains", m{"type": "array", "elements": m{"type": "string"}, "contains": "a"}, a{"b"}, "expected to contain: a"},
		{"timestamp", m{"type": "number", "timestamp": true}, -1.0, "expected a valid timestamp"},
		{"uuid", m{"type": "string", "uuid": true}, "nope", "expected a valid UUID"},
		{"uuid ok any case", m{"type": "string", "uuid": true}, "4E36C2A6-4A46-4D8B-9D5A-2B3E3C7B3C11", nil},
		{"is_regex", m{"type": "string", "is_regex": true}, "(", "not a valid regex: ("},
		{"is_regex pcre lookahead", m{"type": "string", "is_regex": true}, "^(?!x)", nil},
		{"err overrides", m{"type": "string", "match": "^a", "err": "custom"}, "b", "custom"},
		{"mutually_exclusive_subsets", m{"type": "set", "elements": m{"type": "string"}, "mutually_exclusive_subsets": a{a{"http", "https"}, a{"tcp", "tls"}}}, a{"http", "tcp"}, "these sets are mutually exclusive: ('http', 'https'), ('tcp', 'tls')"},
		{"array element errors", m{"type": "array", "elements": m{"type": "string"}}, a{"a", 1.0}, a{nil, "expected a string"}},
		{"array null element", m{"type": "array", "elements": m{"type": "string"}}, a{Null}, a{"required field missing"}},
		{"map first bad value", m{"type": "map", "keys": m{"type": "string"}, "values": m{"type": "integer"}}, m{"a": 1.0, "b": "x"}, "expected an integer"},
		{"record nested", m{"type": "record", "fields": fields("a", m{"type": "integer"}, "b", m{"type": "string", "required": true})},
			m{"a": "x"}, m{"a": "expected an integer", "b": "required field missing"}},
		{"record defaults applied before validating", m{"type": "record", "fields": fields("b", m{"type": "string", "required": true, "default": "d"})}, m{}, nil},
		{"abstract", m{"type": "string", "abstract": true}, "x", "error in schema definition: abstract field was not specialized"},
		{"referenceable skips validators", m{"type": "string", "referenceable": true, "match": "^x"}, "{vault://env/x}", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := FieldFromMap("f", c.field, nil)
			if err != nil {
				t.Fatal(err)
			}
			s := &Schema{Fields: []*Field{f}}
			Prepare(s)
			got, err := s.ValidateField(ctx, f, c.value)
			if err != nil {
				t.Fatal(err)
			}
			if js(normalize(got)) != js(normalize(c.want)) {
				t.Fatalf("got %s, want %s", js(got), js(c.want))
			}
		})
	}
}

func TestCustomValidator(t *testing.T) {
	s := mustSchema(t, m{"name": "x", "primary_key": a{"k"}, "fields": fields(
		"k", m{"type": "string", "custom_validator": &Func{Ref: "cv"}},
		"n", m{"type": "string", "custom_validator": &Func{Ref: "silent"}},
	)})
	r := goRunner{
		"cv": func(args ...any) []any {
			if args[0] == "ok" {
				return a{true}
			}
			return a{nil, "not ok: " + args[0].(string)}
		},
		"silent": func(args ...any) []any { return a{false} },
	}
	errs, err := s.Validate(ctxWith(r), m{"k": "bad", "n": "v"}, false)
	wantErrs(t, errs, err, m{"k": "not ok: bad", "n": "failed validating: v"})
	errs, err = s.Validate(ctxWith(r), m{"k": "ok"}, false)
	wantErrs(t, errs, err, nil)

	// No runner: an error, not a silent pass.
	_, err = s.Validate(context.Background(), m{"k": "ok"}, false)
	if !errors.Is(err, ErrNoFuncRunner) {
		t.Fatalf("err = %v, want ErrNoFuncRunner", err)
	}
}

func consumersLike(t *testing.T) *Schema {
	return mustSchema(t, m{
		"name": "consumers", "primary_key": a{"id"},
		"fields": fields(
			"id", m{"type": "string", "uuid": true, "auto": true},
			"created_at", m{"type": "integer", "timestamp": true, "auto": true},
			"username", m{"type": "string", "unique": true},
			"custom_id", m{"type": "string", "unique": true},
			"port", m{"type": "integer", "between": a{0.0, 65535.0}},
			"proto", m{"type": "string", "one_of": a{"http", "https"}},
			"cfg", m{"type": "record", "fields": fields("a", m{"type": "integer"})},
		),
		"entity_checks": a{m{"at_least_one_of": a{"custom_id", "username"}}},
	})
}

func TestValidateKongExample(t *testing.T) {
	// The five-violation example of KONG-REFERENCE §3.3.
	s := consumersLike(t)
	errs, err := s.ValidateInsert(context.Background(), m{
		"id": "nope", "port": 70000.0, "proto": "ftp", "cfg": m{"a": "x"},
	}, nil)
	wantErrs(t, errs, err, m{
		"@entity": a{"at least one of these fields must be non-empty: 'custom_id', 'username'"},
		"cfg":     m{"a": "expected an integer"},
		"id":      "expected a valid UUID",
		"port":    "value should be between 0 and 65535",
		"proto":   "expected one of: http, https",
	})
	if got := ErrorsToString(errs); got != "Validation error: at least one of these fields must be non-empty: 'custom_id', 'username'; cfg: Validation error: a: expected an integer; id: expected a valid UUID; port: value should be between 0 and 65535; proto: expected one of: http, https" {
		t.Fatalf("ErrorsToString = %q", got)
	}
}

func TestUnknownAndUnvalidatedFields(t *testing.T) {
	s := mustSchema(t, m{"name": "t", "primary_key": a{"id"}, "ttl": true, "fields": fields(
		"id", m{"type": "string"},
	)})
	errs, err := s.Validate(context.Background(), m{"id": "x", "nope": 1.0, "ttl": "whatever", "updated_at": "x"}, true)
	wantErrs(t, errs, err, m{"nope": "unknown field"})
}

func TestRequired(t *testing.T) {
	s := mustSchema(t, m{"name": "t", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string"},
		"r", m{"type": "string", "required": true},
	)})
	ctx := context.Background()
	errs, err := s.Validate(ctx, m{"id": "x"}, true)
	wantErrs(t, errs, err, m{"r": "required field missing"})
	errs, err = s.Validate(ctx, m{"id": "x"}, false) // partial update: missing is fine
	wantErrs(t, errs, err, nil)
	errs, err = s.Validate(ctx, m{"id": "x", "r": Null}, false) // null never is
	wantErrs(t, errs, err, m{"r": "required field missing"})
}

func TestValidatePrimaryKey(t *testing.T) {
	s := consumersLike(t)
	ctx := context.Background()
	errs, err := s.ValidatePrimaryKey(ctx, m{"id": "nope", "username": "x"}, false)
	wantErrs(t, errs, err, m{"id": "expected a valid UUID", "username": "not a primary key"})
	errs, err = s.ValidatePrimaryKey(ctx, m{}, false)
	wantErrs(t, errs, err, m{"id": "missing primary key"})
	errs, err = s.ValidatePrimaryKey(ctx, m{"id": Null}, true)
	wantErrs(t, errs, err, m{"id": "required field missing"})
	errs, err = s.ValidatePrimaryKey(ctx, m{"id": "4e36c2a6-4a46-4d8b-9d5a-2b3e3c7b3c11", "username": "x"}, true)
	wantErrs(t, errs, err, nil)
}

func TestValidateImmutableFields(t *testing.T) {
	s := mustSchema(t, m{"name": "t", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string"},
		"name", m{"type": "string", "immutable": true},
		"list", m{"type": "array", "elements": m{"type": "string"}, "immutable": true},
		"email", m{"type": "string"},
	)})
	got := s.ValidateImmutableFields(m{"name": "a", "list": a{"x", "y"}, "email": "n"}, m{"name": "b", "list": a{"y", "x"}, "email": "o"})
	wantErrs(t, got, nil, m{"name": "immutable field cannot be updated"})
	got = s.ValidateImmutableFields(m{"name": "a", "list": a{"x"}}, m{"name": "a", "list": a{"x", "y"}})
	wantErrs(t, got, nil, m{"list": "immutable field cannot be updated"})
}

func TestForeignField(t *testing.T) {
	r := NewRegistry()
	svc := mustSchema(t, m{"name": "services", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string", "uuid": true, "auto": true},
		"name", m{"type": "string", "unique": true},
	)})
	if err := r.NewEntity(svc); err != nil {
		t.Fatal(err)
	}
	routes := mustSchema(t, m{"name": "routes", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string", "uuid": true, "auto": true},
		"service", m{"type": "foreign", "reference": "services", "on_delete": "cascade"},
	)})
	if err := r.NewEntity(routes); err != nil {
		t.Fatal(err)
	}
	if len(svc.Constraints) != 1 || svc.Constraints[0].Schema != routes || svc.Constraints[0].OnDelete != "cascade" {
		t.Fatalf("constraints = %+v", svc.Constraints)
	}
	ctx := context.Background()
	errs, err := routes.Validate(ctx, m{"service": m{"id": "nope"}}, false)
	wantErrs(t, errs, err, m{"service": m{"id": "expected a valid UUID"}})
	errs, err = routes.Validate(ctx, m{"service": m{"name": "svc"}}, false)
	wantErrs(t, errs, err, m{"service": m{"id": "missing primary key"}})
	errs, err = routes.Validate(ctx, m{"service": m{"id": "4e36c2a6-4a46-4d8b-9d5a-2b3e3c7b3c11"}}, false)
	wantErrs(t, errs, err, nil)

	bad := mustSchema(t, m{"name": "x", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string"},
		"c", m{"type": "foreign", "reference": "nothing"},
	)})
	if err := r.NewEntity(bad); err == nil || err.Error() != "schema refers to an invalid foreign entity: nothing" {
		t.Fatalf("err = %v", err)
	}
}

func TestEntityRules(t *testing.T) {
	r := NewRegistry()
	for def, want := range map[string]m{
		"n: Entities cannot have nilable types.":  {"type": "string", "nilable": true},
		"n: Entities cannot have function types.": {"type": "function"},
		"n: Entities map keys must be strings.":   {"type": "map", "keys": m{"type": "integer"}, "values": m{"type": "string"}},
	} {
		s := &Schema{Name: "e", PrimaryKey: []string{"n"}}
		f, _ := FieldFromMap("n", want, nil)
		s.Fields = []*Field{f}
		if err := r.NewEntity(s); err == nil || err.Error() != def {
			t.Errorf("err = %v, want %q", err, def)
		}
	}
	// Records become required unless the definition said otherwise.
	s := mustSchema(t, m{"name": "e2", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string"},
		"r1", m{"type": "record", "fields": fields("x", m{"type": "string"})},
		"r2", m{"type": "record", "required": false, "fields": fields("x", m{"type": "string"})},
	)})
	if err := r.NewEntity(s); err != nil {
		t.Fatal(err)
	}
	if !s.Field("r1").Required || s.Field("r2").Required {
		t.Fatalf("r1.Required=%v r2.Required=%v", s.Field("r1").Required, s.Field("r2").Required)
	}
}

func TestCheckDefinition(t *testing.T) {
	cases := []struct {
		def  m
		want m
	}{
		{m{"name": "a", "primary_key": a{"id"}, "cache_key": a{"k"}, "fields": fields("id", m{"type": "string"}, "k", m{"type": "string"})},
			m{"cache_key": "a field used as a single cache key must be unique"}},
		{m{"name": "a", "primary_key": a{"id"}, "cache_key": a{"k", "zz"}, "fields": fields("id", m{"type": "string"}, "k", m{"type": "string"})},
			m{"cache_key": "values must be field names"}},
		{m{"name": "a", "primary_key": a{"id"}, "endpoint_key": "zz", "fields": fields("id", m{"type": "string"})},
			m{"endpoint_key": "value must be a field name"}},
		{m{"name": "a", "primary_key": a{"id"}, "ttl": true, "fields": fields("id", m{"type": "string"}, "ttl", m{"type": "integer"})},
			m{"ttl": "ttl is a reserved field name when ttl is enabled"}},
		{m{"name": "a", "primary_key": a{"id"}, "subschema_key": "id", "fields": fields("id", m{"type": "integer"})},
			m{"subschema_key": "must be a string or set field"}},
		{m{"name": "a", "primary_key": a{"id"}, "fields": fields("id", m{"type": "string"}, "l", m{"type": "array"})},
			m{"l": "field of type 'array' must declare 'elements'"}},
		{m{"name": "a", "primary_key": a{"id"}, "fields": fields("id", m{"type": "boolean", "between": a{1.0, 2.0}})},
			m{"id": "field of type 'boolean' cannot have attribute 'between'"}},
		{m{"name": "a", "primary_key": a{"id"}, "fields": fields("id", m{"type": "string"}),
			"transformations": a{m{"input": a{"nope"}, "on_write": &Func{Ref: "f"}}}},
			m{"transformations": m{"input": m{"1": m{"1": "invalid field name: nope"}}}}},
	}
	for _, c := range cases {
		s := mustSchema(t, c.def)
		err := CheckDefinition(s)
		var de *DefinitionError
		if !errors.As(err, &de) {
			t.Fatalf("%v: err = %v", c.def, err)
		}
		wantErrs(t, de.Errors, nil, c.want)
	}
}

func TestSchemaFromMapUnknownAttribute(t *testing.T) {
	_, err := SchemaFromMap(m{"name": "a", "primary_key": a{"id"}, "bogus": true, "fields": fields("id", m{"type": "string", "nope": 1.0})})
	if err == nil || err.Error() != "bogus: unknown field; fields: id: nope: unknown field" {
		t.Fatalf("err = %v", err)
	}
}

func TestDeprecationWarning(t *testing.T) {
	s := mustSchema(t, m{"name": "t", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string"},
		"old", m{"type": "integer", "deprecation": m{"message": "t: old is deprecated, use new", "removal_in_version": "4.0", "old_default": 5.0}},
	)})
	var got []string
	ctx := WithDeprecationHandler(context.Background(), func(msg, after string) { got = append(got, msg+" @"+after) })
	for _, v := range []any{Null, 5.0, 7.0} {
		if errs, err := s.Validate(ctx, m{"old": v}, false); errs != nil || err != nil {
			t.Fatal(errs, err)
		}
	}
	if len(got) != 1 || got[0] != "t: old is deprecated, use new @4.0" {
		t.Fatalf("warnings = %q, want one for the non-default value", got)
	}
}

func TestDataPlaneIgnoresNullUnknownFields(t *testing.T) {
	s := mustSchema(t, m{"name": "t", "primary_key": a{"id"}, "fields": fields("id", m{"type": "string"})})
	in := m{"id": "x", "newer": Null}
	errs, err := s.Validate(context.Background(), in, true)
	wantErrs(t, errs, err, m{"newer": "unknown field"})
	errs, err = s.Validate(WithDataPlane(context.Background()), in, true)
	wantErrs(t, errs, err, nil)
	errs, err = s.Validate(WithDataPlane(context.Background()), m{"id": "x", "newer": 1.0}, true)
	wantErrs(t, errs, err, m{"newer": "unknown field"})
}
