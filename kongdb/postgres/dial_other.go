//go:build !linux

package postgres

import (
	"syscall"
	"time"
)

// userTimeout is Linux-only; keepalive alone bounds dead peers elsewhere.
func userTimeout(time.Duration) func(network, address string, c syscall.RawConn) error { return nil }
