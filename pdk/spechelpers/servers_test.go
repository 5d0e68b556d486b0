package spechelpers

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// tcp_server echoes a line per connection with its prefix, counts them,
// and "@DIE@" answers "<oks>:<fails>" and ends it; join gives the last line.
func TestTCPServerEchoesAndDies(t *testing.T) {
	port := freePort(t)
	th, err := tcpServer(port, tcpOptions{requests: 5, timeout: time.Minute, prefix: "echo: "})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"one", "two"} {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(line + "\n"))
		got, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if got != "echo: "+line+"\n" {
			t.Fatalf("echo of %q: %q", line, got)
		}
	}
	oks, fails, err := killTCPServer(port)
	if err != nil || oks != 2 || fails != 0 {
		t.Fatalf("kill: %d %d %v", oks, fails, err)
	}
	if res := th.mustJoin(t); len(res) != 1 || res[0] != "@DIE@" {
		t.Fatalf("join: %v", res)
	}
}

// tcp_server with tls (Kong's opts.tls) does a TLS handshake on each
// connection with a certificate for localhost and echoes over it; a
// client speaking plain text fails its handshake and counts as a fail, and
// the last line is then nil.
func TestTCPServerTLS(t *testing.T) {
	port := freePort(t)
	th, err := tcpServer(port, tcpOptions{requests: 3, timeout: time.Minute, prefix: "tls: ", tls: true})
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello\n"))
	got, _ := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if got != "tls: hello\n" {
		t.Fatalf("echo: %q", got)
	}
	cert := c.ConnectionState().PeerCertificates[0]
	if cert.Subject.CommonName != "localhost" || cert.Subject.Organization[0] != "Kong" {
		t.Fatalf("certificate: %v", cert.Subject)
	}
	// plain text to the TLS server: its handshake fails
	p, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.Write([]byte("plain\n"))
	if got, _ := bufio.NewReader(p).ReadString('\n'); got != "" {
		t.Fatalf("plain text got %q", got)
	}
	p.Close()
	// the third connection: TLS again, "@DIE@" reports one ok, one fail
	c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("@DIE@\n"))
	got, _ = bufio.NewReader(c).ReadString('\n')
	c.Close()
	if got != "1:1\n" {
		t.Fatalf("@DIE@: %q", got)
	}
	if res := th.mustJoin(t); len(res) != 1 || res[0] != "@DIE@" {
		t.Fatalf("join: %v", res)
	}
}

// A connection closed before a whole line is a fail, and leaves no line.
func TestTCPServerPartialLineFails(t *testing.T) {
	port := freePort(t)
	th, err := tcpServer(port, tcpOptions{requests: 1, timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("no newline"))
	c.Close()
	if res := th.mustJoin(t); len(res) != 1 || res[0] != nil {
		t.Fatalf("join: %#v", res)
	}
}

// udp_server returns the n packets it read.
func TestUDPServerReadsPackets(t *testing.T) {
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	th, err := udpServer(port, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("first"))
	c.Write([]byte("second"))
	res := th.mustJoin(t)
	data, _ := res[0].([]string)
	if strings.Join(data, ",") != "first,second" || res[1] != nil {
		t.Fatalf("join: %#v", res)
	}
}

func (t *serverThread) mustJoin(tb testing.TB) []any {
	tb.Helper()
	res, err := t.join(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// A join waiting for a packet that never comes ends with the test's
// deadline, and the port is free again.
func TestUDPServerJoinHonoursDeadline(t *testing.T) {
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	th, err := udpServer(port, 1, 2*time.Second) // without the deadline: "timeout" after 2 s
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the test's deadline has passed
	if res, err := th.join(ctx); err != context.Canceled || res != nil {
		t.Fatalf("join: %v %v, want context.Canceled", res, err)
	}
	pc, err = net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("the port is still held: %v", err)
	}
	pc.Close()
}
