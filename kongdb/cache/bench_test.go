package cache

import (
	"context"
	"strconv"
	"testing"

	"github.com/luahost/luahost/kongdb/schema"
)

// credential is a keyauth_credentials row as the DAO returns it.
var credential = map[string]any{
	"id":         "b4d1c9a8-1a5e-4c1f-9d7e-2f0c7c3e9a11",
	"created_at": 1700000000.0,
	"consumer":   map[string]any{"id": "0f6b5a3e-7d7c-4a3b-8d2f-6a1c9e8b7d55"},
	"key":        "e8f1c2d3a4b5c6d7e8f9a0b1c2d3e4f5",
	"tags":       schema.Null,
	"ttl":        schema.Null,
	"ws_id":      "7d2a9c1e-5b3f-4e8d-a6c0-1f2e3d4c5b6a",
}

const credKey = "keyauth_credentials:e8f1c2d3a4b5c6d7e8f9a0b1c2d3e4f5:::::7d2a9c1e-5b3f-4e8d-a6c0-1f2e3d4c5b6a"

// walk reads every token the way a Lua decoder would, touching strings as
// the pdk would when making LStrings.
func walk(d *Decoder) (n int, err error) {
	pending := 1
	for pending > 0 {
		t, err := d.Next()
		if err != nil {
			return n, err
		}
		pending--
		n += len(t.Str)
		if t.Kind == KindTable {
			pending += t.NArr + 2*t.NHash
		}
	}
	return n, nil
}

// BenchmarkL2HitWalk: an L2 hit of a credential-sized table, read into a
// reused buffer and walked token by token (the pdk's path minus the Lua
// table allocation).
func BenchmarkL2HitWalk(b *testing.B) {
	c := New(Config{Size: 64 << 20})
	if err := c.SetValue(credKey, credential, nil); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	var d Decoder
	b.ReportAllocs()
	for b.Loop() {
		r, err := c.Get(credKey, buf)
		if err != nil || r.Hit != HitL2 {
			b.Fatal(r, err)
		}
		d.Reset(r.Value)
		if _, err := walk(&d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkL2HitUnmarshal: an L2 hit decoded into the Go value model
// (map[string]any), what a Go caller pays.
func BenchmarkL2HitUnmarshal(b *testing.B) {
	c := New(Config{Size: 64 << 20})
	if err := c.SetValue(credKey, credential, nil); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		r, _ := c.Get(credKey, buf)
		if _, err := Unmarshal(r.Value); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkL2HitParallel: L2 hits from all procs on 1000 hot keys.
func BenchmarkL2HitParallel(b *testing.B) {
	c := New(Config{Size: 64 << 20})
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = credKey + strconv.Itoa(i)
		c.SetValue(keys[i], credential, nil)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, 512)
		var d Decoder
		i := 0
		for pb.Next() {
			r, _ := c.Get(keys[i%len(keys)], buf)
			d.Reset(r.Value)
			walk(&d)
			i++
		}
	})
}

// BenchmarkGetOrLoadHit: the full GetOrLoad call on a warm key with a
// reusable loader object (no closure per call).
func BenchmarkGetOrLoadHit(b *testing.B) {
	c := New(Config{Size: 64 << 20})
	l := LoaderFunc(func(e *Encoder) (TTLOverride, error) { return TTLOverride{}, AppendValue(e, credential) })
	ctx := context.Background()
	buf := make([]byte, 0, 512)
	c.GetOrLoad(ctx, credKey, nil, l, buf)
	b.ReportAllocs()
	for b.Loop() {
		r, err := c.GetOrLoad(ctx, credKey, nil, l, buf)
		if err != nil || r.Hit != HitL2 {
			b.Fatal(r, err)
		}
	}
}

// BenchmarkSet: encode a credential with the primitives and store it.
func BenchmarkSet(b *testing.B) {
	c := New(Config{Size: 64 << 20})
	e := NewEncoder()
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		AppendValue(e, credential)
		if err := c.Set(credKey, e, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetPreEncoded: the store alone.
func BenchmarkSetPreEncoded(b *testing.B) {
	c := New(Config{Size: 64 << 20})
	e := NewEncoder()
	AppendValue(e, credential)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Set(credKey, e, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadMiss: a miss that runs the loader and stores the value.
func BenchmarkLoadMiss(b *testing.B) {
	c := New(Config{Size: 64 << 20})
	l := LoaderFunc(func(e *Encoder) (TTLOverride, error) { return TTLOverride{}, AppendValue(e, credential) })
	ctx := context.Background()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		c.Delete(credKey)
		if _, err := c.GetOrLoad(ctx, credKey, nil, l, buf); err != nil {
			b.Fatal(err)
		}
	}
}
