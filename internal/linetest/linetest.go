// Package linetest serves line-based TCP exchanges on a local port for
// tests: the cosocket, resty.redis and light-thread tests talk to it.
package linetest

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
)

// Serve listens on a free port of 127.0.0.1 and runs handle for each
// connection in its own goroutine (the connection closed when handle
// returns, or when the test ends). It returns the port and the count of
// accepted connections.
func Serve(t testing.TB, handle func(c net.Conn)) (int, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer c.Close()
				go func() { <-done; c.Close() }()
				handle(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, &accepted
}

// Lines is Serve answering each line read (without its "\n") with what
// reply returns for it; reply's false closes the connection.
func Lines(t testing.TB, reply func(line string) (string, bool)) (int, *atomic.Int32) {
	t.Helper()
	return Serve(t, func(c net.Conn) {
		rd := bufio.NewReader(c)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			answer, ok := reply(line[:len(line)-1])
			if !ok {
				return
			}
			if _, err := io.WriteString(c, answer); err != nil {
				return
			}
		}
	})
}

// Echo is Lines answering each line with prefix, the line and "\n"; it
// returns the port as a string.
func Echo(t testing.TB, prefix string) string {
	t.Helper()
	port, _ := Lines(t, func(line string) (string, bool) { return prefix + line + "\n", true })
	return strconv.Itoa(port)
}
