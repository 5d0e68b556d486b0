package memory

import "github.com/luahost/luahost/kongdb/internal/box"

// boxer boxes a row's strings and numbers in slabs (box.Boxer), with the
// store's value decoder on it (codec.go).
type boxer struct{ b box.Boxer }

const slabMax = box.SlabMax

func newBoxer(size int) boxer { return boxer{box.New(size)} }

func (b *boxer) str(s string) any  { return b.b.Str(s) }
func (b *boxer) num(f float64) any { return b.b.Num(f) }
