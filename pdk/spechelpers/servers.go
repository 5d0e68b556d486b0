package spechelpers

// The test servers of Kong's spec helpers (spec/internal/server.lua):
// tcp_server and udp_server, which Kong runs in llthreads2 threads, run
// here as goroutines; the spec gets a thread-like object whose join()
// returns true and what the server returns.

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/luahost/luahost/proxy"
)

// serverThread is a server goroutine and its outcome.
type serverThread struct {
	done   chan struct{}
	result []any // string, []string, nil
	stop   func()
}

// join waits for the thread's result, or until ctx is done (the test's
// deadline): then the server is stopped (its port freed) and ctx's error
// returned. A nil ctx waits for the result.
func (t *serverThread) join(ctx context.Context) ([]any, error) {
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	select {
	case <-t.done:
		return t.result, nil
	case <-done:
		if t.stop != nil {
			t.stop()
		}
		<-t.done
		return nil, ctx.Err()
	}
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

// tcpOptions are tcp_server's opts (Kong's spec/internal/server.lua).
type tcpOptions struct {
	requests int           // connections to accept (1)
	timeout  time.Duration // how long each accept and connection may take
	prefix   string        // put before each echoed line
	tls      bool          // a TLS handshake on each connection first
}

// testCertificate is the certificate of tcp_server's TLS handshakes,
// shaped as Kong's spec/fixtures/kong_spec.crt (self-signed ECDSA P-256,
// CN localhost, O Kong): made once per process, since Kong's file is not
// shipped with luahost.
var testCertificate = sync.OnceValues(proxy.SelfSignedCertificate)

// tcpServer is Kong's tcp_server: it accepts up to requests connections,
// reads a line from each and echoes it back with prefix, then closes it; a
// line "@DIE@" is answered "<oks>:<fails>" and stops the server. A
// connection closed before a whole line (or, with tls, whose handshake
// failed) counts as a fail, and the last line is then nil, as LuaSocket's
// receive gives it. With tls each connection is served over TLS with the
// test certificate (any version crypto/tls has; Kong's luasec "any"). It
// returns the last line read, or "timeout" when no connection came within
// timeout. It listens before returning, so no handshake is needed.
func tcpServer(port int, o tcpOptions) (*serverThread, error) {
	var cfg *tls.Config
	if o.tls {
		cert, err := testCertificate()
		if err != nil {
			return nil, err
		}
		cfg = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS10}
	}
	ln, err := listenTCP(port)
	if err != nil {
		return nil, err
	}
	requests, timeout := o.requests, o.timeout
	if requests < 1 {
		requests = 1
	}
	t := &serverThread{done: make(chan struct{})}
	var once sync.Once
	t.stop = func() { once.Do(func() { ln.Close() }) }
	go func() {
		defer close(t.done)
		defer t.stop()
		var line any
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
			if cfg != nil {
				conn = tls.Server(conn, cfg)
			}
			got, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				fails++
				line = nil
				conn.Close()
				continue
			}
			l := strings.TrimRight(got, "\r\n")
			line = l
			if l == "@DIE@" {
				fmt.Fprintf(conn, "%d:%d\n", oks, fails)
				conn.Close()
				break
			}
			oks++
			fmt.Fprintf(conn, "%s%s\n", o.prefix, l)
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
