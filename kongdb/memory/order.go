package memory

import (
	"sort"
	"strings"
)

// chunkMax bounds a chunk of a sorted list: an insert moves at most
// ~2*chunkMax entries instead of half the table.
const chunkMax = 128

// chunks is a sorted list in chunks (a flat B+-tree of one level). The
// order is the caller's: it searches with a predicate.
type chunks[E any] struct {
	c [][]E
	n int
}

// search returns the position of the first entry for which geq is true
// (geq must be false then true along the list).
func (o *chunks[E]) search(geq func(E) bool) (int, int) {
	ci := sort.Search(len(o.c), func(c int) bool {
		ch := o.c[c]
		return geq(ch[len(ch)-1])
	})
	if ci == len(o.c) {
		return ci, 0
	}
	ch := o.c[ci]
	return ci, sort.Search(len(ch), func(i int) bool { return geq(ch[i]) })
}

// insertAt inserts e at the position search returned.
func (o *chunks[E]) insertAt(ci, i int, e E) {
	o.n++
	if len(o.c) == 0 {
		o.c = [][]E{{e}}
		return
	}
	if ci == len(o.c) {
		ci = len(o.c) - 1
		i = len(o.c[ci])
	}
	var zero E
	ch := append(o.c[ci], zero)
	copy(ch[i+1:], ch[i:])
	ch[i] = e
	if len(ch) <= 2*chunkMax {
		o.c[ci] = ch
		return
	}
	// both halves get room to grow to a split without reallocating
	lo := append(make([]E, 0, 2*chunkMax+1), ch[:chunkMax]...)
	hi := append(make([]E, 0, 2*chunkMax+1), ch[chunkMax:]...)
	o.c = append(o.c, nil)
	copy(o.c[ci+2:], o.c[ci+1:])
	o.c[ci], o.c[ci+1] = lo, hi
}

// removeAt removes the entry at (ci, i).
func (o *chunks[E]) removeAt(ci, i int) {
	o.n--
	ch := o.c[ci]
	copy(ch[i:], ch[i+1:])
	var zero E
	ch[len(ch)-1] = zero
	ch = ch[:len(ch)-1]
	if len(ch) > 0 {
		o.c[ci] = ch
		return
	}
	copy(o.c[ci:], o.c[ci+1:])
	o.c[len(o.c)-1] = nil
	o.c = o.c[:len(o.c)-1]
}

// clone copies o's chunks, each at its length (the copy is only read).
func (o *chunks[E]) clone() chunks[E] {
	c := make([][]E, len(o.c))
	for i, ch := range o.c {
		c[i] = append([]E(nil), ch...)
	}
	return chunks[E]{c: c, n: o.n}
}

// at returns the entry at (ci, i); ok is false past the end.
func (o *chunks[E]) at(ci, i int) (E, bool) {
	if ci < len(o.c) && i < len(o.c[ci]) {
		return o.c[ci][i], true
	}
	var zero E
	return zero, false
}

// walk calls fn on the entries from (ci, i) on until it returns false.
func (o *chunks[E]) walk(ci, i int, fn func(E) bool) {
	for ; ci < len(o.c); ci, i = ci+1, 0 {
		ch := o.c[ci]
		for ; i < len(ch); i++ {
			if !fn(ch[i]) {
				return
			}
		}
	}
}

// order keeps a table's records sorted by primary key.
type order struct {
	t *table
	chunks[entry]
}

// entry is a record in an order, with the start of its key beside it: a
// binary search over a large table compares prefixes in the chunk itself
// instead of following pointers per probe to the key (each a cache
// miss), which cost most of an insert.
type entry struct {
	p   uint64 // the first key column's first 8 bytes, big-endian (string columns only)
	r   *record
	str bool
}

// searchKey is a primary key to search for: the encodings of its columns,
// one after the other.
type searchKey struct {
	enc string
	p   uint64
	str bool
}

func newSearchKey(enc string) searchKey {
	if s, ok := stringOf(enc); ok {
		return searchKey{enc: enc, p: prefix(s), str: true}
	}
	return searchKey{enc: enc}
}

// prefix is s's first 8 bytes as a big-endian number, zero-padded: two
// strings whose prefixes differ compare as their prefixes do.
func prefix(s string) uint64 {
	var p uint64
	for i := 0; i < 8; i++ {
		p <<= 8
		if i < len(s) {
			p |= uint64(s[i])
		}
	}
	return p
}

// entryOf is r's entry.
func (t *table) entryOf(r *record) entry {
	if s, ok := stringOf(t.pkCol(r, 0)); ok {
		return entry{p: prefix(s), r: r, str: true}
	}
	return entry{r: r}
}

// compareKey orders record r against key k.
func (t *table) compareKey(r *record, k string) int {
	j := 0
	for c := range t.pkIdx {
		if j >= len(k) {
			return 1
		}
		end := skipValue(k, j)
		a := t.pkCol(r, c)
		if a == "" {
			return -1
		}
		if cmp := compareEncoded(a, k[j:end]); cmp != 0 {
			return cmp
		}
		j = end
	}
	if j < len(k) {
		return -1
	}
	return 0
}

// compare orders e's record against key k.
func (o *order) compare(e entry, k *searchKey) int {
	if e.str && k.str {
		switch {
		case e.p < k.p:
			return -1
		case e.p > k.p:
			return 1
		}
		if len(o.t.pkIdx) == 1 {
			a, _ := stringOf(o.t.pkCol(e.r, 0))
			b, _ := stringOf(k.enc)
			return strings.Compare(a, b)
		}
	}
	return o.t.compareKey(e.r, k.enc)
}

// find returns the position of the first record whose key is >= k.
func (o *order) find(k *searchKey) (int, int) {
	return o.search(func(e entry) bool { return o.compare(e, k) >= 0 })
}

func (o *order) insert(r *record) {
	k := newSearchKey(o.t.keyOf(r))
	ci, i := o.find(&k)
	o.insertAt(ci, i, o.t.entryOf(r))
}

func (o *order) remove(r *record) {
	k := newSearchKey(o.t.keyOf(r))
	ci, i := o.find(&k)
	if e, ok := o.at(ci, i); ok && e.r == r {
		o.removeAt(ci, i)
	}
}

// swap puts r in old's place (the same key).
func (o *order) swap(old, r *record) {
	k := newSearchKey(o.t.keyOf(old))
	ci, i := o.find(&k)
	if e, ok := o.at(ci, i); ok && e.r == old {
		o.c[ci][i].r = r
		return
	}
	o.insert(r)
}

// from calls fn on every record with key >= k (every record when k is
// ""), in order, until fn returns false.
func (o *order) from(k string, fn func(*record) bool) {
	ci, i := 0, 0
	if k != "" {
		sk := newSearchKey(k)
		ci, i = o.find(&sk)
	}
	o.walk(ci, i, func(e entry) bool { return fn(e.r) })
}

// clone is a copy of o's chunks (the records shared).
func (o *order) clone() order {
	return order{t: o.t, chunks: o.chunks.clone()}
}

// records returns every record in order (a new slice).
func (o *order) records() []*record {
	out := make([]*record, 0, o.n)
	o.walk(0, 0, func(e entry) bool { out = append(out, e.r); return true })
	return out
}

// fkIndex keeps the records that reference another table through one
// foreign field, sorted by the referenced key, then by primary key: the
// rows of one referenced entity are a run of it, so page_for_<fk> costs
// O(log n + size). The group key is the encoding of the referenced id, a
// substring of the record's own row.
type fkIndex struct {
	t     *table
	field int
	chunks[fkEntry]
}

type fkEntry struct {
	g string
	r *record
}

func (x *fkIndex) find(g string, k string) (int, int) {
	return x.search(func(e fkEntry) bool {
		if c := strings.Compare(e.g, g); c != 0 {
			return c > 0
		}
		return k == "" || x.t.compareKey(e.r, k) >= 0
	})
}

func (x *fkIndex) insert(r *record) {
	g := columnEnc(r.enc, x.field, "")
	if g == "" {
		return
	}
	ci, i := x.find(g, x.t.keyOf(r))
	x.insertAt(ci, i, fkEntry{g: g, r: r})
}

func (x *fkIndex) remove(r *record) {
	g := columnEnc(r.enc, x.field, "")
	if g == "" {
		return
	}
	ci, i := x.find(g, x.t.keyOf(r))
	if e, ok := x.at(ci, i); ok && e.r == r {
		x.removeAt(ci, i)
	}
}

// from calls fn on the records referencing g with key >= k (all of them
// when k is ""), in primary-key order, until fn returns false.
func (x *fkIndex) from(g, k string, fn func(*record) bool) {
	ci, i := x.find(g, k)
	x.walk(ci, i, func(e fkEntry) bool { return e.g == g && fn(e.r) })
}
