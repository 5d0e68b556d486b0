package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// goRunner runs "Lua" functions implemented in Go, by reference.
type goRunner map[string]func(args ...any) []any

func (r goRunner) CallFunc(_ context.Context, fn *Func, args ...any) ([]any, error) {
	f, ok := r[fn.Ref]
	if !ok {
		return nil, fmt.Errorf("no function %q", fn.Ref)
	}
	return f(args...), nil
}

func ctxWith(r goRunner) context.Context {
	return WithFuncRunner(context.Background(), r)
}

// mustSchema builds and prepares a schema from a definition table.
func mustSchema(t testing.TB, def map[string]any) *Schema {
	t.Helper()
	s, err := SchemaFromMap(def)
	if err != nil {
		t.Fatalf("SchemaFromMap: %v", err)
	}
	Prepare(s)
	return s
}

func fields(fs ...any) []any {
	out := []any{}
	for i := 0; i < len(fs); i += 2 {
		out = append(out, map[string]any{fs[i].(string): fs[i+1]})
	}
	return out
}

type m = map[string]any
type a = []any

// js renders an error table deterministically for comparisons.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func wantErrs(t *testing.T, got map[string]any, err error, want map[string]any) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if want == nil {
		if got != nil {
			t.Fatalf("want valid, got %s", js(got))
		}
		return
	}
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Fatalf("errors:\n got  %s\n want %s", js(got), js(want))
	}
}

// normalize makes NullType and nested maps comparable via JSON.
func normalize(v any) any {
	var out any
	b, _ := json.Marshal(v)
	_ = json.Unmarshal(b, &out)
	return out
}

func num(f float64) *float64 { return &f }
