package schema

import (
	"context"
	"regexp"
	"testing"
	"time"
)

func autoSchema(t *testing.T) *Schema {
	s := mustSchema(t, m{"name": "creds", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string", "uuid": true, "auto": true},
		"created_at", m{"type": "integer", "timestamp": true, "auto": true},
		"updated_at", m{"type": "number", "timestamp": true, "auto": true},
		"key", m{"type": "string", "auto": true, "unique": true},
		"name", m{"type": "string"},
		"enabled", m{"type": "boolean", "default": true},
		"protocols", m{"type": "set", "elements": m{"type": "string"}, "default": a{"http", "https"}},
		"tags", m{"type": "set", "elements": m{"type": "string"}},
		"cfg", m{"type": "record", "fields": fields(
			"second", m{"type": "integer", "default": 60.0},
			"opt", m{"type": "string"},
		)},
		"count", m{"type": "integer"},
	)})
	if err := NewRegistry().NewEntity(s); err != nil {
		t.Fatal(err)
	}
	return s
}

var fixedNow = func() time.Time { return time.Unix(1700000000, 123456789) }

func TestProcessAutoFieldsInsert(t *testing.T) {
	s := autoSchema(t)
	in := m{"name": "n", "tags": a{"a", "b", "a"}}
	out, serrs, err := s.ProcessAutoFields(context.Background(), in, CtxInsert, &AutoOptions{Now: fixedNow})
	if err != nil || serrs != nil {
		t.Fatal(err, serrs)
	}
	if !IsUUID(out["id"].(string)) {
		t.Errorf("id = %v", out["id"])
	}
	if k := out["key"].(string); !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(k) {
		t.Errorf("key = %q, want 32 alphanumerics", k)
	}
	if out["created_at"] != 1700000000.0 || out["updated_at"] != 1700000000.123 {
		t.Errorf("created_at = %v, updated_at = %v", out["created_at"], out["updated_at"])
	}
	want := m{"name": "n", "enabled": true, "protocols": a{"http", "https"}, "tags": a{"a", "b"},
		"cfg": m{"second": 60.0, "opt": Null}, "count": Null}
	for k, v := range want {
		if js(normalize(out[k])) != js(normalize(v)) || (IsNull(v) && !IsNull(out[k])) {
			t.Errorf("%s = %#v, want %#v", k, out[k], v)
		}
	}
	if _, touched := in["id"]; touched {
		t.Error("insert must work on a copy")
	}
	if errs, err := s.ValidateInsert(context.Background(), out, in); err != nil || errs != nil {
		t.Fatalf("processed entity does not validate: %v %v", js(errs), err)
	}
}

func TestProcessAutoFieldsUpdate(t *testing.T) {
	s := autoSchema(t)
	out, _, err := s.ProcessAutoFields(context.Background(), m{"name": "n"}, CtxUpdate, &AutoOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	// Partial: only what was given, plus updated_at.
	if js(out) != `{"name":"n","updated_at":1700000000.123}` {
		t.Fatalf("update = %s", js(out))
	}
	// Upsert resets created_at unless given.
	out, _, _ = s.ProcessAutoFields(context.Background(), m{"created_at": Null}, CtxUpsert, &AutoOptions{Now: fixedNow})
	if out["created_at"] != 1700000000.0 {
		t.Fatalf("upsert created_at = %v", out["created_at"])
	}
}

func TestProcessAutoFieldsSelect(t *testing.T) {
	s := autoSchema(t)
	row := m{"id": "x", "name": "", "count": 3.7, "tags": Null, "ws_id": "w", "junk": 1.0,
		"cfg": m{"second": 5.0, "opt": Null}}
	out, _, err := s.ProcessAutoFields(context.Background(), row, CtxSelect, nil)
	if err != nil {
		t.Fatal(err)
	}
	// nulls gone, integers floored, "" dropped from strings that need a
	// length, unknown keys dropped, nested nulls gone; missing fields get
	// their defaults (Kong's adjust_field_for_context outside updates).
	if got := js(out); got != `{"cfg":{"second":5},"count":3,"enabled":true,"id":"x","protocols":["http","https"]}` {
		t.Fatalf("select = %s", got)
	}
	row = m{"id": "x", "name": "", "tags": Null, "ws_id": "w"}
	out, _, _ = s.ProcessAutoFields(context.Background(), row, CtxSelect, &AutoOptions{Nulls: true, ShowWsID: true})
	if !IsNull(out["name"]) || !IsNull(out["tags"]) || out["ws_id"] != "w" {
		t.Fatalf("select nulls = %#v", out)
	}
	// ws_id and ttl alone beside the fields: ws_id only when asked for,
	// ttl only in a ttl schema
	for _, show := range []bool{false, true} {
		out, _, _ = s.ProcessAutoFields(context.Background(), m{"id": "x", "ws_id": "w", "ttl": 5.0}, CtxSelect, &AutoOptions{ShowWsID: show})
		if _, has := out["ws_id"]; has != show || out["ttl"] != nil {
			t.Fatalf("select (ShowWsID %v) = %#v", show, out)
		}
	}
}

func TestShorthandFields(t *testing.T) {
	r := goRunner{"url": func(args ...any) []any {
		return a{m{"host": "h-" + args[0].(string), "cfg": m{"b": "from-url"}}}
	}}
	s := mustSchema(t, m{"name": "services", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string"},
		"host", m{"type": "string"},
		"cfg", m{"type": "record", "fields": fields("a", m{"type": "string"}, "b", m{"type": "string"})},
	), "shorthand_fields": a{m{"url": m{"type": "string", "func": &Func{Ref: "url"}}}}})
	ctx := ctxWith(r)
	out, serrs, err := s.ProcessAutoFields(ctx, m{"url": "x", "cfg": m{"a": "keep"}}, CtxUpdate, nil)
	if err != nil || serrs != nil {
		t.Fatal(err, serrs)
	}
	if got := js(out); got != `{"cfg":{"a":"keep","b":"from-url"},"host":"h-x"}` {
		t.Fatalf("shorthand = %s", got)
	}
	_, serrs, err = s.ProcessAutoFields(ctx, m{"url": 1.0}, CtxUpdate, nil)
	wantErrs(t, serrs, err, m{"url": "expected a string"})
}

func TestMergeValues(t *testing.T) {
	s := autoSchema(t)
	top := m{"cfg": m{"opt": "new"}, "tags": a{"x"}}
	bottom := m{"name": "n", "cfg": m{"second": 5.0, "opt": "old"}, "tags": a{"a", "b"}}
	out := s.MergeValues(top, bottom)
	if got := js(out); got != `{"cfg":{"opt":"new","second":5},"name":"n","tags":["x"]}` {
		t.Fatalf("merge = %s", got)
	}
}

func TestTransform(t *testing.T) {
	r := goRunner{
		"hash": func(args ...any) []any { return a{m{"secret": "hashed:" + args[0].(string)}} },
		"fail": func(args ...any) []any { return a{nil, "boom"} },
	}
	s := mustSchema(t, m{"name": "t", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string"},
		"secret", m{"type": "string"},
		"consumer", m{"type": "string"},
	), "transformations": a{m{"input": a{"secret"}, "needs": a{"consumer"}, "on_write": &Func{Ref: "hash"}}}})
	ctx := ctxWith(r)
	out, err := s.Transform(ctx, m{"id": "1", "secret": "pw", "consumer": "c"}, nil, CtxInsert)
	if err != nil || out["secret"] != "hashed:pw" {
		t.Fatalf("transform = %v, %v", out, err)
	}
	// A missing "needs" skips the transformation; validation flags it.
	out, _ = s.Transform(ctx, m{"id": "1", "secret": "pw"}, nil, CtxInsert)
	if out["secret"] != "pw" {
		t.Fatalf("skipped transform changed %v", out)
	}
	errs, err := s.ValidateInsert(ctx, m{"id": "1", "secret": "pw"}, nil)
	wantErrs(t, errs, err, m{"@entity": a{"all or none of these fields must be set: 'secret', 'consumer'"}})

	s.Transformations[0].OnWrite = &Func{Ref: "fail"}
	_, err = s.Transform(ctx, m{"id": "1", "secret": "pw", "consumer": "c"}, nil, CtxInsert)
	if te, ok := err.(*TransformError); !ok || te.Msg != "transformation failed: boom" {
		t.Fatalf("err = %v", err)
	}
}

func TestLegacyShorthands(t *testing.T) {
	r := goRunner{"split": func(args ...any) []any {
		return a{m{"cfg": m{"b": args[0]}}} // 2.8 overwrites, no merge
	}}
	s := mustSchema(t, m{"name": "t", "primary_key": a{"id"}, "fields": fields(
		"id", m{"type": "string"},
		"cfg", m{"type": "record", "fields": fields("a", m{"type": "string"}, "b", m{"type": "string"})},
	), "shorthands": a{m{"b_only": &Func{Ref: "split"}}}})
	out, serrs, err := s.ProcessAutoFields(ctxWith(r), m{"b_only": "x", "cfg": m{"a": "lost"}}, CtxUpdate, nil)
	if err != nil || serrs != nil {
		t.Fatal(err, serrs)
	}
	if got := js(out); got != `{"cfg":{"b":"x"}}` {
		t.Fatalf("legacy shorthand = %s", got)
	}
}

func deprecatedShorthands(t *testing.T) (*Schema, context.Context) {
	r := goRunner{
		"A": func(args ...any) []any { return a{m{"new_A": args[0]}} },
		"B": func(args ...any) []any { return a{m{"new_B": m{"x": args[0]}}} },
		"C": func(args ...any) []any { return a{m{"new_C": args[0]}} },
		"D": func(args ...any) []any { return a{m{"new_D_1": args[0], "new_D_2": args[0]}} },
	}
	dep := func(name string, paths ...any) m {
		return m{"type": "string", "func": &Func{Ref: name}, "deprecation": m{
			"replaced_with": paths, "message": "deprecated", "removal_in_version": "4.0"}}
	}
	s := mustSchema(t, m{"name": "test", "primary_key": a{"new_A"}, "fields": fields(
		"new_A", m{"type": "string"},
		"new_B", m{"type": "record", "fields": fields("x", m{"type": "string"})},
		"new_C", m{"type": "string", "default": "abc", "required": true},
		"new_D_1", m{"type": "string"},
		"new_D_2", m{"type": "string"},
	), "shorthand_fields": a{
		m{"old_A": dep("A", m{"path": a{"new_A"}})},
		m{"old_B": dep("B", m{"path": a{"new_B", "x"}})},
		m{"old_C": dep("C", m{"path": a{"new_C"}})},
		m{"old_D": dep("D", m{"path": a{"new_D_1"}}, m{"path": a{"new_D_2"}})},
	}})
	return s, ctxWith(r)
}

func TestDeprecatedShorthandMismatch(t *testing.T) {
	s, ctx := deprecatedShorthands(t)
	out, serrs, err := s.ProcessAutoFields(ctx, m{
		"old_A": "not-test-1", "new_A": "test-1",
		"old_B": "not-test-2", "new_B": m{"x": "test-2"},
		"old_C": "abc", "new_C": "not-abc",
		"old_D": "test-4", "new_D_1": "test-4", "new_D_2": "not-test-4",
	}, CtxInsert, nil)
	if out != nil {
		t.Fatalf("output %v, want none", out)
	}
	wantErrs(t, serrs, err, m{
		"old_A": "both deprecated and new field are used but their values mismatch: old_A = not-test-1 vs new_A = test-1",
		"old_B": "both deprecated and new field are used but their values mismatch: old_B = not-test-2 vs new_B.x = test-2",
		"old_C": "both deprecated and new field are used but their values mismatch: old_C = abc vs new_C = not-abc",
		"old_D": "both deprecated and new field are used but their values mismatch: old_D = test-4 vs new_D_2 = not-test-4",
	})
}

func TestDeprecatedShorthandMerge(t *testing.T) {
	s, ctx := deprecatedShorthands(t)
	cases := []struct{ in, want m }{
		{m{"old_A": "test-1", "new_A": "test-1", "old_B": "test-2", "new_B": m{"x": "test-2"},
			"old_D": "test-4", "new_D_1": "test-4", "new_D_2": "test-4"},
			m{"new_A": "test-1", "new_B": m{"x": "test-2"}, "new_C": "abc", "new_D_1": "test-4", "new_D_2": "test-4"}},
		// new values null: the deprecated ones fill them
		{m{"old_A": "test-1", "new_A": Null, "old_B": "test-2", "new_B": m{"x": Null},
			"old_C": "test-3", "new_C": Null, "old_D": "test-4", "new_D_1": Null, "new_D_2": Null},
			m{"new_A": "test-1", "new_B": m{"x": "test-2"}, "new_C": "test-3", "new_D_1": "test-4", "new_D_2": "test-4"}},
		// old values null: the new ones stay
		{m{"old_A": Null, "new_A": "test-1", "old_B": Null, "new_B": m{"x": "test-2"},
			"old_C": Null, "new_C": "test-3", "old_D": Null, "new_D_1": "test-4-1", "new_D_2": "test-4-2"},
			m{"new_A": "test-1", "new_B": m{"x": "test-2"}, "new_C": "test-3", "new_D_1": "test-4-1", "new_D_2": "test-4-2"}},
	}
	for i, c := range cases {
		out, serrs, err := s.ProcessAutoFields(ctx, c.in, CtxInsert, nil)
		if err != nil || serrs != nil {
			t.Fatalf("case %d: %v %v", i, err, serrs)
		}
		if js(out) != js(c.want) {
			t.Errorf("case %d:\n got  %s\n want %s", i, js(out), js(c.want))
		}
	}
}
