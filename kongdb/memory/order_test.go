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
			r := &record{key: k, pk: []any{k}}
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
