package schema

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"testing"
)

// On select, vault references in referenceable fields are dereferenced
// (strings, array elements, map values) and the references kept in $refs,
// as Kong's process_auto_fields does; other fields keep the text.
func TestVaultReferencesResolvedOnSelect(t *testing.T) {
	s := &Schema{Name: "things", PrimaryKey: []string{"id"}, Fields: []*Field{
		{Name: "id", Type: TypeString},
		{Name: "secret", Type: TypeString, Referenceable: true},
		{Name: "plain", Type: TypeString},
		{Name: "list", Type: TypeArray, Elements: &Field{Type: TypeString, Referenceable: true}},
		{Name: "hdrs", Type: TypeMap, Keys: &Field{Type: TypeString}, Values: &Field{Type: TypeString, Referenceable: true}},
		{Name: "missing", Type: TypeString, Referenceable: true},
	}}
	s.Index()
	vault := map[string]string{"{vault://env/a}": "A", "{vault://env/b}": "B", "{vault://env/c}": "C"}
	var logged bytes.Buffer
	o := &AutoOptions{ResolveReference: func(_ context.Context, ref string) (string, error) {
		if v, ok := vault[ref]; ok {
			return v, nil
		}
		return "", errors.New("not found")
	}, Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))}
	in := map[string]any{
		"id": "1", "secret": "{vault://env/a}", "plain": "{vault://env/a}",
		"list": []any{"x", "{vault://env/b}"}, "hdrs": map[string]any{"h": "{vault://env/c}"},
		"missing": "{vault://env/nope}",
	}
	out, serrs, err := s.ProcessAutoFields(context.Background(), in, CtxSelect, o)
	if err != nil || serrs != nil {
		t.Fatal(err, serrs)
	}
	if out["secret"] != "A" || out["plain"] != "{vault://env/a}" {
		t.Errorf("secret %v plain %v", out["secret"], out["plain"])
	}
	if !reflect.DeepEqual(out["list"], []any{"x", "B"}) || !reflect.DeepEqual(out["hdrs"], map[string]any{"h": "C"}) {
		t.Errorf("list %v hdrs %v", out["list"], out["hdrs"])
	}
	refs, _ := out["$refs"].(map[string]any)
	if refs["secret"] != "{vault://env/a}" || refs["missing"] != "{vault://env/nope}" ||
		!reflect.DeepEqual(refs["list"], []any{nil, "{vault://env/b}"}) ||
		!reflect.DeepEqual(refs["hdrs"], map[string]any{"h": "{vault://env/c}"}) {
		t.Errorf("$refs %#v", refs)
	}
	// Kong's resolve_reference: an unresolvable reference reads as "",
	// kept although the field needs a length ($refs names it), and is
	// logged as a warning; resolved ones log nothing
	if v, ok := out["missing"]; !ok || v != "" {
		t.Errorf("unresolvable reference: %#v, want \"\"", v)
	}
	if got, want := logged.String(), `level=WARN msg="unable to resolve reference {vault://env/nope} (not found)"`+"\n"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}
