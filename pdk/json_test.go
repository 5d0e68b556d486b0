package pdk

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The Go bindings' codec is Kong's cjson.safe: 16 digits, errors returned,
// and decoded arrays keep array_mt, so an empty one encodes back as "[]".
func TestInstanceJSON(t *testing.T) {
	in, _ := newShimState(t)
	j := in.JSON()
	v, err := j.Decode(in.L, `{"a":[],"n":0.1}`)
	if err != "" {
		t.Fatal(err)
	}
	tbl := v.(*lua.LTable)
	tbl.RawSetString("n", lua.LNumber(1.0/3))
	out, err := j.Encode(in.L, tbl.RawGetString("a"))
	if err != "" || out != "[]" {
		t.Errorf("empty array: %q %q", out, err)
	}
	if out, _ := j.Encode(in.L, tbl.RawGetString("n")); out != "0.3333333333333333" {
		t.Errorf("16 digits: %q", out)
	}
	if _, err := j.Decode(in.L, `{"a"`); err == "" {
		t.Error("a broken document decodes")
	}
	if in.JSON() != j {
		t.Error("one codec per worker")
	}
}
