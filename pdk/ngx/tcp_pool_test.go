package ngx

import (
	"io"
	"net"
	"testing"
	"time"
)

func idlePipe(t *testing.T) (*idleConn, net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &idleConn{conn: a, raw: a}, b
}

// An idle connection is dropped when its peer sends data or when its
// idle timeout passes; a live one is taken, most recent first.
func TestTCPPoolIdle(t *testing.T) {
	var p TCPPools
	spoke, peer := idlePipe(t)
	p.put("k", 5, 0, spoke, false)
	go peer.Write([]byte("x"))
	<-spoke.done
	if ic := p.get("k"); ic != nil {
		t.Fatal("a connection whose peer sent data while idle was reused")
	}
	expired, _ := idlePipe(t)
	p.put("k", 5, time.Millisecond, expired, false)
	<-expired.done
	if ic := p.get("k"); ic != nil {
		t.Fatal("a connection past its idle timeout was reused")
	}
	one, _ := idlePipe(t)
	two, _ := idlePipe(t)
	p.put("k", 5, time.Hour, one, false)
	p.put("k", 5, time.Hour, two, false)
	if ic := p.get("k"); ic != two {
		t.Fatal("not the most recently released")
	}
	if ic := p.get("k"); ic != one {
		t.Fatal("not the older one")
	}
	if ic := p.get("k"); ic != nil {
		t.Fatal("pool not empty")
	}
	p.release("k")
	p.release("k")
	if len(p.m) != 0 {
		t.Fatalf("pool kept with no connection: %v", p.m)
	}
}

// Past its size a pool closes its least recently released connection.
func TestTCPPoolSize(t *testing.T) {
	var p TCPPools
	var peers []net.Conn
	var conns []*idleConn
	for range 3 {
		ic, peer := idlePipe(t)
		p.put("k", 2, 0, ic, false)
		conns, peers = append(conns, ic), append(peers, peer)
	}
	if _, err := peers[0].Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("oldest not closed: %v", err)
	}
	if p.get("k") != conns[2] || p.get("k") != conns[1] || p.get("k") != nil {
		t.Fatal("kept the wrong connections")
	}
	if n := p.m["k"].conns; n != 2 {
		t.Fatalf("pool counts %d connections, want 2", n)
	}
}
