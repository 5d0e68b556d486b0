package host

import "time"

// monoStart is the origin of monoNow's clock.
var monoStart = time.Now()

// monoNow is the monotonic clock in nanoseconds since monoStart (never 0):
// what deadlines are measured with. One clock read (time.Since of a time
// with a monotonic reading) where time.Now makes two: a phase arms its
// deadline on every call, and a deadline measured on the wall clock would
// move when the clock is set.
func monoNow() int64 { return int64(time.Since(monoStart)) + 1 }
