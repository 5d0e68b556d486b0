package memory

import "unsafe"

// boxer turns decoded strings and numbers into interface values without an
// allocation each: the values are kept in slabs it allocates a few at a
// time, and each interface points at its slot, as the runtime's own box
// would point at a fresh copy. A slot is written once, before its
// interface exists, and never again, so the values stay immutable as Go
// requires of a boxed value. A slab lives as long as any value boxed in
// it (bounded by slabMax slots).
type boxer struct {
	slab []slot
	size int // the next slab's slots
}

// slot holds one boxed value: a string or a number (one slab for both, so
// a row costs one allocation for all its values).
type slot struct {
	s string
	f float64
}

const slabMax = 64

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

func newBoxer(size int) boxer { return boxer{size: max(1, min(size, slabMax))} }

func (b *boxer) next() *slot {
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

func (b *boxer) str(s string) any {
	p := b.next()
	p.s = s
	return makeAny(stringType, unsafe.Pointer(&p.s))
}

func (b *boxer) num(f float64) any {
	p := b.next()
	p.f = f
	return makeAny(floatType, unsafe.Pointer(&p.f))
}
