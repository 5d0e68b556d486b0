package memory

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
)

// TestOrder checks the chunked order against a sorted slice through
// thousands of random inserts and removals (chunks split and empty).
func TestOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var o order
	live := map[string]*record{}
	for i := 0; i < 6000; i++ {
		k := fmt.Sprintf("%05d", rng.Intn(4000))
		if r, ok := live[k]; ok && rng.Intn(3) == 0 {
			o.remove(r)
			delete(live, k)
		} else if !ok {
			r := &record{key: k, pk: keyOf([]any{k})}
			o.insert(r)
			live[k] = r
		}
	}
	var want []string
	for k := range live {
		want = append(want, k)
	}
	sort.Strings(want)
	var got []string
	o.from(nil, func(r *record) bool { got = append(got, r.key); return true })
	if fmt.Sprint(got) != fmt.Sprint(want) || o.n != len(want) {
		t.Fatalf("order has %d records (n=%d), want %d", len(got), o.n, len(want))
	}
	if len(o.chunks) < 2 {
		t.Fatalf("expected several chunks, got %d", len(o.chunks))
	}
	// from(pk) starts at the first key >= pk
	mid := want[len(want)/2]
	var first string
	o.from([]any{mid}, func(r *record) bool { first = r.key; return false })
	if first != mid {
		t.Fatalf("from(%s) starts at %s", mid, first)
	}
	o.from([]any{mid + "x"}, func(r *record) bool { first = r.key; return false })
	if first != want[len(want)/2+1] {
		t.Fatalf("from(%sx) starts at %s", mid, first)
	}
}

// Keys that are not a single string (numbers, composite keys) keep their
// typed order: 9 before 10, then by the second column.
func TestOrderTypedKeys(t *testing.T) {
	var o order
	for _, n := range []float64{10, 9, 100, 1.5, -3} {
		o.insert(&record{key: fmt.Sprint(n), pk: keyOf([]any{n})})
	}
	for _, k := range [][]any{{"b", 2.0}, {"a", 10.0}, {"a", 9.0}} {
		o.insert(&record{key: fmt.Sprint(k), pk: keyOf(k)})
	}
	var got []string
	o.from(nil, func(r *record) bool { got = append(got, r.key); return true })
	if want := "[-3 1.5 9 10 100 [a 9] [a 10] [b 2]]"; fmt.Sprint(got) != want {
		t.Fatalf("order %v, want %s", got, want)
	}
}

// String keys compare by their first 8 bytes in the chunk, then in full:
// keys that share a long prefix, short keys, and zero bytes (the padding of
// a short prefix) sort as strings do.
func TestOrderStringPrefixes(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	var o order
	seen := map[string]bool{}
	var want []string
	for len(want) < 3000 {
		var k string
		switch rng.Intn(4) {
		case 0:
			k = fmt.Sprintf("00000000-0000-%04d", rng.Intn(10000)) // uuid-like, one prefix
		case 1:
			k = fmt.Sprintf("%c", 'a'+rng.Intn(3))[:1] + string(make([]byte, rng.Intn(3))) // "a", "a\x00", ...
		case 2:
			k = fmt.Sprintf("ab%d", rng.Intn(100))
		default:
			k = fmt.Sprintf("%x", rng.Int63())
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		want = append(want, k)
		o.insert(&record{key: k, pk: keyOf([]any{k})})
	}
	sort.Strings(want)
	var got []string
	o.from(nil, func(r *record) bool { got = append(got, r.key); return true })
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("order differs from sorted strings")
	}
	// from(pk) lands on each key
	for _, k := range want[:200] {
		var first string
		o.from([]any{k}, func(r *record) bool { first = r.key; return false })
		if first != k {
			t.Fatalf("from(%q) starts at %q", k, first)
		}
	}
}
