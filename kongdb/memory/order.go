package memory

import "sort"

// chunkMax bounds a chunk of the primary-key order: an insert moves at most
// ~2*chunkMax pointers instead of half the table.
const chunkMax = 512

// order keeps a table's records sorted by primary key, in chunks (a flat
// B+-tree of one level).
type order struct {
	chunks [][]*record
	n      int
}

// search returns the position of the first record whose key is >= pk.
func (o *order) search(pk []any) (int, int) {
	ci := sort.Search(len(o.chunks), func(c int) bool {
		ch := o.chunks[c]
		return comparePK(ch[len(ch)-1].pk, pk) >= 0
	})
	if ci == len(o.chunks) {
		return ci, 0
	}
	ch := o.chunks[ci]
	return ci, sort.Search(len(ch), func(i int) bool { return comparePK(ch[i].pk, pk) >= 0 })
}

func (o *order) insert(r *record) {
	o.n++
	if len(o.chunks) == 0 {
		o.chunks = [][]*record{{r}}
		return
	}
	ci, i := o.search(r.pk)
	if ci == len(o.chunks) {
		ci = len(o.chunks) - 1
		i = len(o.chunks[ci])
	}
	ch := append(o.chunks[ci], nil)
	copy(ch[i+1:], ch[i:])
	ch[i] = r
	if len(ch) <= 2*chunkMax {
		o.chunks[ci] = ch
		return
	}
	lo := append([]*record(nil), ch[:chunkMax]...)
	hi := append(make([]*record, 0, 2*chunkMax), ch[chunkMax:]...)
	o.chunks = append(o.chunks, nil)
	copy(o.chunks[ci+2:], o.chunks[ci+1:])
	o.chunks[ci], o.chunks[ci+1] = lo, hi
}

func (o *order) remove(r *record) {
	ci, i := o.search(r.pk)
	if ci == len(o.chunks) {
		return
	}
	ch := o.chunks[ci]
	if i >= len(ch) || ch[i] != r {
		return
	}
	o.n--
	copy(ch[i:], ch[i+1:])
	ch[len(ch)-1] = nil
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
		ci, i = o.search(pk)
	}
	for ; ci < len(o.chunks); ci, i = ci+1, 0 {
		ch := o.chunks[ci]
		for ; i < len(ch); i++ {
			if !fn(ch[i]) {
				return
			}
		}
	}
}

// records returns every record in order (a new slice).
func (o *order) records() []*record {
	out := make([]*record, 0, o.n)
	for _, ch := range o.chunks {
		out = append(out, ch...)
	}
	return out
}
