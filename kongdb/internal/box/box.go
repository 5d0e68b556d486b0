// Package box turns decoded strings and numbers into interface values
// without an allocation each, for the strategies that decode rows (the
// embedded store, PostgreSQL).
package box

import "unsafe"

// Boxer keeps the values it boxes in slabs it allocates a few at a time,
// and each interface points at its slot, as the runtime's own box would
// point at a fresh copy. A slot is written once, before its interface
// exists, and never again, so the values stay immutable as Go requires of
// a boxed value. A slab lives as long as any value boxed in it (bounded by
// SlabMax slots).
type Boxer struct {
	slab []slot
	size int // the next slab's slots
}

// slot holds one boxed value: a string or a number (one slab for both, so
// a row costs one allocation for all its values).
type slot struct {
	s string
	f float64
}

// SlabMax bounds a slab's slots.
const SlabMax = 64

// eface is the layout of an empty interface (runtime.eface).
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	stringType = typeOf("")
	floatType  = typeOf(0.5)
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

func makeAny(typ, data unsafe.Pointer) any {
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, data
	return v
}

// New returns a Boxer whose first slab has size slots (1 to SlabMax).
func New(size int) Boxer { return Boxer{size: max(1, min(size, SlabMax))} }

func (b *Boxer) next() *slot {
	if len(b.slab) == cap(b.slab) {
		n := b.size
		if n <= 0 {
			n = 8
		}
		b.slab = make([]slot, 0, n)
	}
	b.slab = b.slab[:len(b.slab)+1]
	return &b.slab[len(b.slab)-1]
}

// Str is any(s), boxed in b's slab.
func (b *Boxer) Str(s string) any {
	p := b.next()
	p.s = s
	return makeAny(stringType, unsafe.Pointer(&p.s))
}

// Num is any(f), boxed in b's slab.
func (b *Boxer) Num(f float64) any {
	p := b.next()
	p.f = f
	return makeAny(floatType, unsafe.Pointer(&p.f))
}
