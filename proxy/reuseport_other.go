//go:build !linux

package proxy

import "syscall"

// reusePort is a no-op where SO_REUSEPORT is not wired up.
func reusePort(network, address string, c syscall.RawConn) error { return nil }
