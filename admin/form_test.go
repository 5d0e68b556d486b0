package admin

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

func args(q string) []Arg {
	var out []Arg
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		out = append(out, Arg{k, v})
	}
	return out
}

func TestDecodeForm(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a=1", "map[a:1]"},
		{"a=1&a=2", "map[a:[1 2]]"},
		{"a[]=x&a[]=y", "map[a:[x y]]"},
		{"config.key_names[]=a&config.key_names[]=b", "map[config:map[key_names:[a b]]]"},
		{"config.minute=5&config.hour=6", "map[config:map[hour:6 minute:5]]"},
		{"a.b.c=1", "map[a:map[b:map[c:1]]]"},
		{"a[2]=y&a[1]=x", "map[a:[x y]]"},
		{"headers[x-a]=1", "map[headers:map[x-a:1]]"},
		{"a[1].b=1&a[2].b=2", "map[a:[map[b:1] map[b:2]]]"},
		{".a=1&b.=2", "map[.a:1 b.:2]"},
		{"paths[]=/one", "map[paths:[/one]]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(DecodeForm(args(c.in))); got != c.want {
			t.Errorf("%s: got %s, want %s", c.in, got, c.want)
		}
	}
}

func TestInfer(t *testing.T) {
	s := kongdb.ServicesSchema()
	got := Infer(DecodeForm(args("port=8080&retries=&enabled=false&tags=a&ca_certificates[]=x&name=n")), s)
	want := map[string]any{"port": float64(8080), "retries": schema.Null, "enabled": false,
		"tags": []any{"a"}, "ca_certificates": []any{"x"}, "name": "n"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// a value that is not a number stays a string (the schema says why)
	if got := Infer(map[string]any{"port": "eighty"}, s); got["port"] != "eighty" {
		t.Fatal(got)
	}
}

func TestDecodeJSON(t *testing.T) {
	m, err := DecodeJSON([]byte(`{"a":null,"b":[1,{"c":true}],"d":"\u0000x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if m["a"] != schema.Null || fmt.Sprint(m["b"]) != "[1 map[c:true]]" || m["d"] != "\x00x" {
		t.Fatal(m)
	}
	for _, bad := range []string{``, `{`, `[]`, `1`, `{"a":1} x`, `{"a":1}{}`, strings.Repeat(`{"a":`, 1001) + "1" + strings.Repeat("}", 1001)} {
		if _, err := DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("%.40q decoded", bad)
		}
	}
	if _, err := DecodeJSON([]byte(strings.Repeat(`{"a":`, 999) + "1" + strings.Repeat("}", 999))); err != nil {
		t.Errorf("999 levels: %v", err)
	}
}

// FuzzBodyParser: any body with any of the three content types decodes
// without panicking, and what decodes re-encodes as valid JSON.
func FuzzBodyParser(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":[1,{"b":null}]}`, `[[[[`, `{"\u0000":"\ud800"}`, "a=1&a[]=2", "config.x[1].y=3&.=&[=]", "a[]]=1&a..b=2"} {
		f.Add([]byte(s))
	}
	s := kongdb.PluginsSchema()
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := DecodeJSON(b); err == nil {
			out := AppendJSON(nil, m)
			if _, err := DecodeJSON(out); err != nil && utf8.Valid(b) {
				t.Fatalf("re-encoded JSON does not decode: %s", out)
			}
		}
		form := DecodeForm(args(string(b)))
		Infer(form, s)
		AppendJSON(nil, form)
	})
}

// FuzzFormKey: any key decodes into nested values (no panic, no key lost
// but into the result's structure).
func FuzzFormKey(f *testing.F) {
	for _, k := range []string{"a", "a.b", "a[]", "a[1]", "a[x]", "a[1].b[]", ".", "[", "a[", "a]", "a..b", "a[999999]"} {
		f.Add(k, "v")
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		m := DecodeForm([]Arg{{k, v}, {k, v}, {k + "[]", v}, {k + ".x", v}})
		if len(m) == 0 {
			t.Fatalf("%q: nothing decoded", k)
		}
	})
}
