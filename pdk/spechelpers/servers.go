package spechelpers

// The test servers of Kong's spec helpers (spec/internal/server.lua):
// tcp_server and udp_server, which Kong runs in llthreads2 threads, run
// here as goroutines; the spec gets a thread-like object whose join()
// returns true and what the server returns.

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// serverThread is a server goroutine and its outcome.
type serverThread struct {
	done   chan struct{}
	result []any // string, []string, nil
	stop   func()
}

func (t *serverThread) join() []any {
	<-t.done
	return t.result
}

func (t *serverThread) alive() bool {
	select {
	case <-t.done:
		return false
	default:
		return true
	}
}

// listenTCP listens on 127.0.0.1 and the IPv6 loopback when free (specs
// connect to "localhost").
func listenTCP(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
}

// tcpServer is Kong's tcp_server: it accepts up to requests connections,
// reads a line from each and echoes it back with prefix, then closes it; a
// line "@DIE@" is answered "<oks>:<fails>" and stops the server. It returns
// the last line read, or "timeout" when no connection came within timeout.
// It listens before returning, so no handshake is needed.
func tcpServer(port, requests int, timeout time.Duration, prefix string) (*serverThread, error) {
	ln, err := listenTCP(port)
	if err != nil {
		return nil, err
	}
	if requests < 1 {
		requests = 1
	}
	t := &serverThread{done: make(chan struct{})}
	var once sync.Once
	t.stop = func() { once.Do(func() { ln.Close() }) }
	go func() {
		defer close(t.done)
		defer t.stop()
		var line string
		oks, fails := 0, 0
		for i := 0; i < requests; i++ {
			if tl, ok := ln.(*net.TCPListener); ok && timeout > 0 {
				tl.SetDeadline(time.Now().Add(timeout))
			}
			conn, err := ln.Accept()
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					line = "timeout"
				}
				break
			}
			if timeout > 0 {
				conn.SetDeadline(time.Now().Add(timeout))
			}
			got, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil && got == "" {
				fails++
				conn.Close()
				continue
			}
			line = strings.TrimRight(got, "\r\n")
			if line == "@DIE@" {
				fmt.Fprintf(conn, "%d:%d\n", oks, fails)
				conn.Close()
				break
			}
			oks++
			fmt.Fprintf(conn, "%s%s\n", prefix, line)
			conn.Close()
		}
		t.result = []any{line}
	}()
	return t, nil
}

// killTCPServer is Kong's kill_tcp_server: "@DIE@" to the server on port;
// it returns the oks and fails it counted.
func killTCPServer(port int) (int, int, error) {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("localhost", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("@DIE@\n")); err != nil {
		return 0, 0, err
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil && got == "" {
		return 0, 0, err
	}
	var oks, fails int
	if _, err := fmt.Sscanf(strings.TrimSpace(got), "%d:%d", &oks, &fails); err != nil {
		return 0, 0, fmt.Errorf("kill_tcp_server: unexpected answer %q", got)
	}
	return oks, fails, nil
}

// udpServer is Kong's udp_server: it reads n packets on 127.0.0.1:port
// (each read bounded by timeout) and returns the packet (n == 1) or the
// list of packets, and the error that stopped it early.
func udpServer(port, n int, timeout time.Duration) (*serverThread, error) {
	pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	if n < 1 {
		n = 1
	}
	t := &serverThread{done: make(chan struct{})}
	var once sync.Once
	t.stop = func() { once.Do(func() { pc.Close() }) }
	go func() {
		defer close(t.done)
		defer t.stop()
		var data []string
		var rerr any
		buf := make([]byte, 65536)
		for len(data) < n {
			if timeout > 0 {
				pc.SetReadDeadline(time.Now().Add(timeout))
			}
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					rerr = "timeout"
				} else {
					rerr = err.Error()
				}
				break
			}
			data = append(data, string(buf[:k]))
		}
		if n > 1 {
			t.result = []any{data, rerr}
		} else if len(data) > 0 {
			t.result = []any{data[0], rerr}
		} else {
			t.result = []any{nil, rerr}
		}
	}()
	return t, nil
}
