package memory

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/luahost/luahost/kongdb/schema"
)

// orderTable is a table whose primary key is the given fields, and recOf
// makes records of it from key values.
func orderTable(pk ...*schema.Field) *table {
	s := &schema.Schema{Name: "t", Fields: pk}
	for _, f := range pk {
		s.PrimaryKey = append(s.PrimaryKey, f.Name)
	}
	return newTable(New(), s)
}

func recOf(t *table, vals ...any) *record {
	row := map[string]any{}
	for i, v := range vals {
		row[t.s.PrimaryKey[i]] = v
	}
	enc, err := t.encodeRow(row)
	if err != nil {
		panic(err)
	}
	return &record{enc: enc}
}

// label is a record's key for the assertions: the string of a single
// string key, else the key values printed.
func label(t *table, r *record) string {
	vals := t.pkVals(r)
	if s, ok := vals[0].(string); ok && len(vals) == 1 {
		return s
	}
	if len(vals) == 1 {
		return fmt.Sprint(vals[0])
	}
	return fmt.Sprint(vals)
}

func keyFor(vals ...any) string {
	k, ok := appendVals(nil, vals)
	if !ok {
		panic("bad key")
	}
	return string(k)
}

var idField = &schema.Field{Name: "id", Type: schema.TypeString}

// TestOrder checks the chunked order against a sorted slice through
// thousands of random inserts and removals (chunks split and empty).
func TestOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	tb := orderTable(idField)
	o := order{t: tb}
	live := map[string]*record{}
	for i := 0; i < 6000; i++ {
		k := fmt.Sprintf("%05d", rng.Intn(4000))
		if r, ok := live[k]; ok && rng.Intn(3) == 0 {
			o.remove(r)
			delete(live, k)
		} else if !ok {
			r := recOf(tb, k)
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
	o.from("", func(r *record) bool { got = append(got, label(tb, r)); return true })
	if fmt.Sprint(got) != fmt.Sprint(want) || o.n != len(want) {
		t.Fatalf("order has %d records (n=%d), want %d", len(got), o.n, len(want))
	}
	if len(o.c) < 2 {
		t.Fatalf("expected several chunks, got %d", len(o.c))
	}
	// from(pk) starts at the first key >= pk
	mid := want[len(want)/2]
	var first string
	o.from(keyFor(mid), func(r *record) bool { first = label(tb, r); return false })
	if first != mid {
		t.Fatalf("from(%s) starts at %s", mid, first)
	}
	o.from(keyFor(mid+"x"), func(r *record) bool { first = label(tb, r); return false })
	if first != want[len(want)/2+1] {
		t.Fatalf("from(%sx) starts at %s", mid, first)
	}
}

// Keys that are not a single string (numbers, composite keys) keep their
// typed order: 9 before 10, then by the second column.
func TestOrderTypedKeys(t *testing.T) {
	nt := orderTable(&schema.Field{Name: "n", Type: schema.TypeNumber})
	o := order{t: nt}
	for _, n := range []float64{10, 9, 100, 1.5, -3, 1e300, -0.25} {
		o.insert(recOf(nt, n))
	}
	var got []string
	o.from("", func(r *record) bool { got = append(got, label(nt, r)); return true })
	if want := "[-3 -0.25 1.5 9 10 100 1e+300]"; fmt.Sprint(got) != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	ct := orderTable(&schema.Field{Name: "name", Type: schema.TypeString}, &schema.Field{Name: "v", Type: schema.TypeNumber})
	o = order{t: ct}
	for _, k := range [][]any{{"b", 2.0}, {"a", 10.0}, {"a", 9.0}, {"ab", 1.0}} {
		o.insert(recOf(ct, k...))
	}
	got = nil
	o.from("", func(r *record) bool { got = append(got, label(ct, r)); return true })
	if want := "[[a 9] [a 10] [ab 1] [b 2]]"; fmt.Sprint(got) != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	got = nil
	o.from(keyFor("a", 9.5), func(r *record) bool { got = append(got, label(ct, r)); return true })
	if want := "[[a 10] [ab 1] [b 2]]"; fmt.Sprint(got) != want {
		t.Fatalf("from (a, 9.5): %v, want %s", got, want)
	}
}

// String keys compare by their first 8 bytes in the chunk, then in full:
// keys that share a long prefix, short keys, and zero bytes (the padding of
// a short prefix) sort as strings do.
func TestOrderStringPrefixes(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	tb := orderTable(idField)
	o := order{t: tb}
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
		o.insert(recOf(tb, k))
	}
	sort.Strings(want)
	var got []string
	o.from("", func(r *record) bool { got = append(got, label(tb, r)); return true })
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("order differs from sorted strings")
	}
	// from(pk) lands on each key
	for _, k := range want[:200] {
		var first string
		o.from(keyFor(k), func(r *record) bool { first = label(tb, r); return false })
		if first != k {
			t.Fatalf("from(%q) starts at %q", k, first)
		}
	}
}
