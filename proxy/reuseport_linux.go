package proxy

import "syscall"

// reusePort sets SO_REUSEPORT (proxy_listen's reuseport flag).
func reusePort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// soReusePort is Linux's SO_REUSEPORT (the syscall package lacks it).
const soReusePort = 0xf
