package spechelpers

import (
	"bufio"
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
	th, err := tcpServer(port, 5, time.Minute, "echo: ")
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
	if res := th.join(); len(res) != 1 || res[0] != "@DIE@" {
		t.Fatalf("join: %v", res)
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
	res := th.join()
	data, _ := res[0].([]string)
	if strings.Join(data, ",") != "first,second" || res[1] != nil {
		t.Fatalf("join: %#v", res)
	}
}
