package cache

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"github.com/luahost/luahost/kongdb/schema"
)

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", v, err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("Unmarshal(Marshal(%#v)): %v", v, err)
	}
	return got
}

func TestCodecRoundTripValueModel(t *testing.T) {
	cases := []any{
		nil, schema.Null, true, false,
		0.0, 1.0, 127.0, 128.0, -1.0, 42.5, 1e300, -1e-300,
		float64(1 << 53), float64(-(1 << 53)), float64(1<<53) * 4,
		math.Inf(1), math.Inf(-1),
		"", "key-auth", "with\x00nul and ütf8",
		[]any{}, []any{"a", 2.0, true, schema.Null},
		map[string]any{},
		map[string]any{
			"id":       "4e8a8d0c-1b8c-4c5e-9f0c-3c1e0c4e8a8d",
			"key":      "secret",
			"consumer": map[string]any{"id": "c1"},
			"tags":     []any{},
			"ttl":      schema.Null,
			"n":        3600.0,
		},
	}
	for _, v := range cases {
		if got := roundTrip(t, v); !reflect.DeepEqual(got, v) {
			t.Errorf("round trip of %#v gave %#v", v, got)
		}
	}
}

func TestCodecNegativeZeroAndNaN(t *testing.T) {
	got := roundTrip(t, math.Copysign(0, -1)).(float64)
	if got != 0 || !math.Signbit(got) {
		t.Errorf("-0 came back as %v (signbit %v)", got, math.Signbit(got))
	}
	if got := roundTrip(t, math.NaN()).(float64); !math.IsNaN(got) {
		t.Errorf("NaN came back as %v", got)
	}
}

func TestCodecGoTypes(t *testing.T) {
	if got := roundTrip(t, []string{"a", "b"}); !reflect.DeepEqual(got, []any{"a", "b"}) {
		t.Errorf("[]string gave %#v", got)
	}
	if got := roundTrip(t, map[string]string{"x": "y"}); !reflect.DeepEqual(got, map[string]any{"x": "y"}) {
		t.Errorf("map[string]string gave %#v", got)
	}
	if got := roundTrip(t, int64(-5)); got != -5.0 {
		t.Errorf("int64 gave %#v", got)
	}
	if _, err := Marshal(func() {}); err == nil || err.Error() != "cannot cache value of type func()" {
		t.Errorf("func: err = %v", err)
	}
	if _, err := Marshal(&schema.Func{}); err == nil || err.Error() != "cannot cache value of type function" {
		t.Errorf("*schema.Func: err = %v", err)
	}
	cyc := map[string]any{}
	cyc["self"] = cyc
	if _, err := Marshal(cyc); err == nil {
		t.Error("a cyclic map was encoded")
	}
}

// TestEncoderBeginEndTable drives the encoder the way the pdk will for a Lua
// table whose counts it learns while iterating: a mixed table with an array
// part and a hash part with non-string keys.
func TestEncoderBeginEndTable(t *testing.T) {
	e := NewEncoder()
	m := e.BeginTable()
	e.String("one")
	e.String("two")
	e.Number(10)
	e.Bool(true)
	e.Bool(false)
	e.Number(1.5)
	e.EndTable(m, 2, 2, 0)
	got, err := Unmarshal(e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"1": "one", "2": "two", "10": true, "false": 1.5}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}

	// Pulling tokens: the pdk's path.
	d := NewDecoder(e.Bytes())
	tok, err := d.Next()
	if err != nil || tok.Kind != KindTable || tok.NArr != 2 || tok.NHash != 2 {
		t.Fatalf("table token = %+v, %v", tok, err)
	}
	if tok, _ := d.Next(); tok.Kind != KindString || string(tok.Str) != "one" {
		t.Fatalf("first item = %+v", tok)
	}
	if err := d.Skip(); err != nil { // "two"
		t.Fatal(err)
	}
	if tok, _ := d.Next(); tok.Kind != KindNumber || tok.Num != 10 {
		t.Fatalf("first key = %+v", tok)
	}
}

func TestEncoderTruncate(t *testing.T) {
	e := NewEncoder()
	e.Table(0, 1, 0)
	e.String("ok")
	m := e.Mark()
	e.String("half-written")
	e.Truncate(m)
	e.Number(1)
	got, err := Unmarshal(e.Bytes())
	if err != nil || !reflect.DeepEqual(got, map[string]any{"ok": 1.0}) {
		t.Fatalf("got %#v, %v", got, err)
	}
}

func TestDecoderRejectsCorruptInput(t *testing.T) {
	bad := [][]byte{
		nil,
		{tagString, 10, 'a'},
		{tagFloat, 1, 2},
		{tagTable, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0}, // 2^31 items, no bytes
		{tagTable, 0, 1, 0, 0, 0, 0, 0, 0},                // short header
		{0x7f},                                            // unknown tag
		{tagInt},
		{tagNil, tagNil}, // trailing bytes
	}
	for _, b := range bad {
		if v, err := Unmarshal(b); err == nil {
			t.Errorf("Unmarshal(% x) = %#v, want an error", b, v)
		}
	}
}

func TestMarshalIsDeterministic(t *testing.T) {
	v := map[string]any{"b": 1.0, "a": 2.0, "c": map[string]any{"z": 1.0, "y": 2.0}}
	b1, _ := Marshal(v)
	for i := 0; i < 20; i++ {
		b2, _ := Marshal(v)
		if !bytes.Equal(b1, b2) {
			t.Fatal("two encodings of one map differ")
		}
	}
}

// FuzzDecode: arbitrary bytes never panic the decoder, and whatever decodes
// re-encodes to a value that decodes to the same thing.
func FuzzDecode(f *testing.F) {
	for _, v := range []any{nil, schema.Null, 1.0, -3.25, "s", []any{1.0, "x"}, map[string]any{"k": []any{}}} {
		b, _ := Marshal(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Unmarshal(b)
		if err != nil {
			return
		}
		d := NewDecoder(b)
		if err := d.Skip(); err != nil || d.Remaining() != 0 {
			t.Fatalf("Unmarshal accepted % x but Skip did not: %v", b, err)
		}
		b2, err := Marshal(v)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", v, err)
		}
		v2, err := Unmarshal(b2)
		if err != nil {
			t.Fatalf("decoding re-encoded %#v: %v", v, err)
		}
		if !deepEqualNaN(v, v2) {
			t.Fatalf("round trip changed %#v into %#v", v, v2)
		}
	})
}

func deepEqualNaN(a, b any) bool {
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && (fa == fb || (math.IsNaN(fa) && math.IsNaN(fb)))
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqualNaN(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !deepEqualNaN(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
