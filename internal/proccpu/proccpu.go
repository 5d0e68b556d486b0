// Package proccpu reads the process's CPU time, for benchmarks that report
// CPU per operation (cpu-ns/op): on a machine loaded by other work, wall
// time counts the other processes' turns, CPU time does not.
package proccpu

import (
	"syscall"
	"time"
)

// Now is the user + system CPU time the process has used so far (0 when
// the system cannot say).
func Now() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
