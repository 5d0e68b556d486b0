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
	strs []string
	nums []float64
	size int // the next slab's slots
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

func (b *boxer) str(s string) any {
	if len(b.strs) == cap(b.strs) {
		b.strs = make([]string, 0, b.grow())
	}
	b.strs = append(b.strs, s)
	return makeAny(stringType, unsafe.Pointer(&b.strs[len(b.strs)-1]))
}

func (b *boxer) num(f float64) any {
	if len(b.nums) == cap(b.nums) {
		b.nums = make([]float64, 0, b.grow())
	}
	b.nums = append(b.nums, f)
	return makeAny(floatType, unsafe.Pointer(&b.nums[len(b.nums)-1]))
}

func (b *boxer) grow() int {
	n := b.size
	if n <= 0 {
		n = 8
	}
	return n
}
