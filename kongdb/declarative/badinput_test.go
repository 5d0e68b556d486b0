package declarative_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/declarative"
	"github.com/luahost/luahost/kongdb/memory"
)

func memDB(t testing.TB) *kongdb.DB {
	db := kongdb.New(memory.New(), kongdb.DBOptions{})
	return db
}

// Bad files get one clear error (Kong's code 14 error), never a panic,
// and nothing is written.
func TestBadInput(t *testing.T) {
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	cases := []struct{ name, file, body, want string }{
		{"malformed yaml", "kong.yml", "_format_version: \"3.0\"\nservices: [\n", "failed parsing declarative configuration: "},
		{"malformed json", "kong.json", `{"_format_version": "3.0",`, "failed parsing declarative configuration: "},
		{"empty", "kong.yml", "", "failed parsing declarative configuration: expected an object"},
		{"scalar", "kong.yml", "hello", "failed parsing declarative configuration: expected an object"},
		{"list", "kong.yml", "- a\n- b\n", "failed parsing declarative configuration: expected an object"},
		{"deep", "kong.json", `{"_format_version": "3.0", "x": ` + deep + `}`, "nested deeper than 64 levels"},
		{"aliases", "kong.yml", laughs, "aliases expand to more than"},
		{"extension", "kong.txt", "a: 1", "unknown file type: kong.txt. (Accepted types: json, yaml)"},
		{"no version", "kong.yml", "services: []\n", "_format_version: required field missing"},
		{"bad version", "kong.yml", "_format_version: \"9.9\"\n", "_format_version: expected one of: 1.1, 2.1, 3.0"},
		{"version type", "kong.yml", "_format_version: 3\n", "_format_version: expected a string"},
		{"unknown entity", "kong.yml", "_format_version: \"3.0\"\nwidgets: []\n", "widgets: unknown field"},
		{"tags not loadable", "kong.yml", "_format_version: \"3.0\"\ntags: []\n", "tags: unknown field"},
		{"entity not a list", "kong.yml", "_format_version: \"3.0\"\nservices: {name: x}\n", "services: expected an array"},
		{"item not a map", "kong.yml", "_format_version: \"3.0\"\nservices: [3]\n", "services[1]: expected a record"},
		{"nul and sql", "kong.yml", "_format_version: \"3.0\"\nconsumers:\n- username: \"a\\0'; DROP TABLE consumers; --\"\n  custom_id: 5\n", "consumers[1] (line 3): custom_id: expected a string"},
		{"non-string key", "kong.yml", "_format_version: \"3.0\"\n? [a]\n: 1\n", "keys must be strings"},
		{"unknown entity field", "kong.yml", "_format_version: \"3.0\"\nservices:\n- name: x\n  host: h\n  colour: red\n", "services[1] (line 3): colour: unknown field"},
		{"10 MB string", "kong.yml", "_format_version: \"3.0\"\nconsumers:\n- username: u\n  custom_id: [" + strings.Repeat("a", 10<<20) + "]\n", "consumers[1] (line 3): custom_id: expected a string"},
		{"transform type", "kong.yml", "_format_version: \"3.0\"\n_transform: \"yes\"\n", "_transform: expected a boolean"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := memDB(t)
			_, err := declarative.Load(ctx, db, strings.NewReader(c.body), c.file)
			var de *declarative.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v", err, err)
			}
			if !strings.Contains(de.Listing(), c.want) {
				t.Errorf("listing %q lacks %q", de.Listing(), c.want)
			}
			if b := de.Body(true); b["code"] != 14 || b["name"] != "invalid declarative configuration" {
				t.Errorf("body %v", b)
			}
			if n := count(t, db, "consumers") + count(t, db, "services"); n != 0 {
				t.Errorf("%d rows written", n)
			}
		})
	}
}

// A file over MaxSize is refused before it is parsed.
func TestTooLarge(t *testing.T) {
	big := make([]byte, declarative.MaxSize+1)
	_, err := declarative.Parse(ctx, memDB(t), big, "kong.yml", declarative.ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatal(err)
	}
}

// FuzzParse: any bytes give a config or a *declarative.Error, never a
// panic, and a config that parses loads.
func FuzzParse(f *testing.F) {
	f.Add([]byte(kongYML))
	f.Add([]byte(`{"_format_version":"3.0","services":[{"name":"a","host":"h","routes":[{"paths":["/"]}]}]}`))
	f.Add([]byte("_format_version: \"2.1\"\nroutes:\n- paths: [/a.*]\n  service: x\n"))
	f.Add([]byte("a: &a [1]\nb: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		db := memDB(t)
		cfg, err := declarative.Parse(ctx, db, data, "", declarative.ParseOptions{})
		if err != nil {
			var de *declarative.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v", err, err)
			}
			_ = de.Body(true)
			return
		}
		if err := cfg.Replace(ctx, db); err != nil {
			var we *declarative.WriteError
			if !errors.As(err, &we) {
				t.Fatalf("replace: %T %v", err, err)
			}
		}
	})
}
