package proxy

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// countingConn counts the deadlines set on it.
type countingConn struct {
	net.Conn
	reads, writes int
}

func (c *countingConn) SetReadDeadline(t time.Time) error {
	c.reads++
	return c.Conn.SetReadDeadline(t)
}

func (c *countingConn) SetWriteDeadline(t time.Time) error {
	c.writes++
	return c.Conn.SetWriteDeadline(t)
}

// On a busy upstream connection the read and write deadlines move once
// per many operations (a timer update each), not at every one; a silent
// peer still times the read out.
func TestTimedConnMovesDeadlinesRarely(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	cc := &countingConn{Conn: a}
	c := &timedConn{Conn: cc, read: time.Minute, write: time.Minute}
	go func() {
		buf := make([]byte, 1)
		for i := 0; i < 100; i++ {
			if _, err := b.Read(buf); err != nil {
				return
			}
			if _, err := b.Write(buf); err != nil {
				return
			}
		}
	}()
	buf := []byte{'x'}
	for i := 0; i < 100; i++ {
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	// 100 reads and writes within far less than a 64th of a minute
	if cc.reads > 2 || cc.writes > 2 {
		t.Errorf("deadlines set: %d read, %d write; want at most 2 each", cc.reads, cc.writes)
	}

	// a peer that says nothing: the read times out
	s := &timedConn{Conn: a, read: 50 * time.Millisecond, write: time.Minute}
	if _, err := s.Read(buf); err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read from a silent peer: %v", err)
	}
}

// A client connection's deadlines, as fasthttp sets them before every
// request and response, move once per many requests; an earlier deadline
// and clearing one always reach the connection.
func TestLogConnMovesDeadlinesRarely(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	cc := &countingConn{Conn: a}
	lc := &logConn{Conn: cc}
	for i := 0; i < 100; i++ {
		if err := lc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := lc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if cc.reads > 2 || cc.writes > 2 {
		t.Fatalf("deadlines set: %d read, %d write; want at most 2 each", cc.reads, cc.writes)
	}
	reads := cc.reads
	if err := lc.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if cc.reads != reads+1 {
		t.Fatal("an earlier deadline was not set")
	}
	buf := make([]byte, 1)
	if _, err := lc.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the earlier deadline: %v", err)
	}
	if err := lc.SetReadDeadline(time.Time{}); err != nil || cc.reads != reads+2 {
		t.Fatalf("clearing the deadline: %v, %d sets", err, cc.reads-reads)
	}
}
