package host

import (
	_ "unsafe" // go:linkname
)

// monoNow is the runtime's monotonic clock in nanoseconds: what deadlines
// are measured with. One clock read where time.Now makes two (wall and
// monotonic): a phase arms its deadline on every call, and a deadline
// measured on the wall clock would move when the clock is set.
//
//go:linkname monoNow runtime.nanotime
func monoNow() int64
