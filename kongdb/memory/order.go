package memory

import (
	"sort"
	"strings"
)

// chunkMax bounds a chunk of the primary-key order: an insert moves at most
// ~2*chunkMax entries instead of half the table.
const chunkMax = 128

// order keeps a table's records sorted by primary key, in chunks (a flat
// B+-tree of one level).
type order struct {
	chunks [][]entry
	n      int
}

// entry is a record in an order, with the start of its key beside it: a
// binary search over a large table compares prefixes in the chunk itself
// instead of following three pointers per probe to the key (each a cache
// miss), which cost most of an insert.
type entry struct {
	p   uint64 // the key's first 8 bytes, big-endian (str keys only)
	str bool
	r   *record
}

// pkey is a primary key as the order compares it: a single string column
// (the usual uuid id) as a string, compared without unboxing; any other
// key by its column values.
type pkey struct {
	vals []any
	s    string
	p    uint64
	str  bool
}

func keyOf(vals []any) pkey {
	if len(vals) == 1 {
		if s, ok := vals[0].(string); ok {
			return pkey{vals: vals, s: s, p: prefix(s), str: true}
		}
	}
	return pkey{vals: vals}
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

func (k *pkey) entry(r *record) entry { return entry{p: k.p, str: k.str, r: r} }

// compare orders e's record against key k.
func (e entry) compare(k *pkey) int {
	if e.str && k.str {
		switch {
		case e.p < k.p:
			return -1
		case e.p > k.p:
			return 1
		}
		return strings.Compare(e.r.pk.s, k.s)
	}
	return comparePK(e.r.pk.vals, k.vals)
}

// search returns the position of the first record whose key is >= pk.
func (o *order) search(pk *pkey) (int, int) {
	ci := sort.Search(len(o.chunks), func(c int) bool {
		ch := o.chunks[c]
		return ch[len(ch)-1].compare(pk) >= 0
	})
	if ci == len(o.chunks) {
		return ci, 0
	}
	ch := o.chunks[ci]
	return ci, sort.Search(len(ch), func(i int) bool { return ch[i].compare(pk) >= 0 })
}

func (o *order) insert(r *record) {
	o.n++
	e := r.pk.entry(r)
	if len(o.chunks) == 0 {
		o.chunks = [][]entry{{e}}
		return
	}
	ci, i := o.search(&r.pk)
	if ci == len(o.chunks) {
		ci = len(o.chunks) - 1
		i = len(o.chunks[ci])
	}
	ch := append(o.chunks[ci], entry{})
	copy(ch[i+1:], ch[i:])
	ch[i] = e
	if len(ch) <= 2*chunkMax {
		o.chunks[ci] = ch
		return
	}
	lo := append([]entry(nil), ch[:chunkMax]...)
	hi := append(make([]entry, 0, 2*chunkMax), ch[chunkMax:]...)
	o.chunks = append(o.chunks, nil)
	copy(o.chunks[ci+2:], o.chunks[ci+1:])
	o.chunks[ci], o.chunks[ci+1] = lo, hi
}

func (o *order) remove(r *record) {
	ci, i := o.search(&r.pk)
	if ci == len(o.chunks) {
		return
	}
	ch := o.chunks[ci]
	if i >= len(ch) || ch[i].r != r {
		return
	}
	o.n--
	copy(ch[i:], ch[i+1:])
	ch[len(ch)-1] = entry{}
	ch = ch[:len(ch)-1]
	if len(ch) > 0 {
		o.chunks[ci] = ch
		return
	}
	copy(o.chunks[ci:], o.chunks[ci+1:])
	o.chunks[len(o.chunks)-1] = nil
	o.chunks = o.chunks[:len(o.chunks)-1]
}

// from calls fn on every record with key >= pk (every record when pk is
// nil), in order, until fn returns false.
func (o *order) from(pk []any, fn func(*record) bool) {
	ci, i := 0, 0
	if pk != nil {
		k := keyOf(pk)
		ci, i = o.search(&k)
	}
	for ; ci < len(o.chunks); ci, i = ci+1, 0 {
		ch := o.chunks[ci]
		for ; i < len(ch); i++ {
			if !fn(ch[i].r) {
				return
			}
		}
	}
}

// records returns every record in order (a new slice).
func (o *order) records() []*record {
	out := make([]*record, 0, o.n)
	for _, ch := range o.chunks {
		for _, e := range ch {
			out = append(out, e.r)
		}
	}
	return out
}
