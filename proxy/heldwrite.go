package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"
)

// One system call fewer per proxied request: the upstream's answer is
// waited for before it is read.
//
// Go's poller reads a socket before it waits for it: conn.Read makes a
// read(2), and only when that fails with EAGAIN parks the goroutine until
// epoll reports the socket readable, then reads again. The proxy reads the
// upstream's response right after writing the request, when nothing can
// have come yet, so that first read is a wasted system call (nginx waits
// first and reads once epoll says so). On the project's machine a system
// call costs about what token-auth's whole Lua handler does.
//
// The poller cannot simply wait first: it forgets a socket's readiness
// when a read begins (the runtime's pollReset), so a readiness reported
// before the wait would be lost. But a response cannot come before its
// request has left. So a write that completes a request is held, and sent
// from inside the read of its response, through the socket's RawConn: the
// read has begun (readiness reset) before the bytes leave, and the first
// thing it does after the send is wait.
//
// What else could have come before the send, and is then not seen until
// the upstream sends something more:
//   - The upstream closing an idle kept-alive connection. A close makes
//     the request answered by a reset (read as io.EOF, as the close alone
//     would have been: fasthttp retries an idempotent request on another
//     connection), unless the upstream only shut its side down and reads
//     on (a lingering close, Apache's after KeepAliveTimeout): then
//     nothing more would ever come. So a connection idle for heldIdle or
//     more since its last answer is written and read as any other: upstream
//     keep-alive timeouts are seconds, a busy connection is reused within
//     milliseconds.
//   - Bytes the upstream sends unasked (an early error and a close): they
//     are read with the reset that answers the request, as they would have
//     been by the first read.
//
// The client's side cannot do the same: a client may send its next request
// before it has the response (pipelining), and that readiness would be
// lost; the client's connection is read as Go reads it.
//
// Only a write that completes a request is held (its framing checked:
// Content-Length or no body; a chunked body is a stream, whose chunks must
// not wait), only on the plain TCP connections of fasthttp's HTTP/1.1
// client (under TLS the bytes are records, and HTTP/2 reads while it
// writes), and only up to heldMax bytes. The held bytes always leave before
// anything else happens on the connection: a second write sends them
// first. A connection is used by one goroutine at a time (fasthttp's
// client writes a request and reads its response; it closes connections
// from other goroutines only when idle in its pool, with nothing held).

// Sends in a burst. With one P (GOMAXPROCS=1, the deployment bench/
// plugin.sh measures), the send first lets every goroutine already
// runnable run (runtime.Gosched): the requests that the same poll brought
// in run their plugins and reach their own sends, and the requests leave
// back to back. An upstream that finished the last burst sleeps in its
// poll; a request that finds it so wakes it (on a virtual machine, an
// interrupt to another vCPU charged to the proxy: the host's cost of a
// wake-up is several system calls' worth), and the requests that follow
// while it runs wake nothing. Sent one at a time, each after its plugins
// ran, the requests each found the upstream asleep once the plugins took
// longer than the upstream's answer: counted with perf (sched_waking,
// ipi_send_cpu) under bench/plugin.sh, the proxy with token-auth woke the
// upstream on about every request (one in six for the proxy without
// plugins; with the yield, one in eighteen for both), and paid more
// system time per request than the one without plugins for the same
// system calls. A runnable goroutine is one whose
// request came in: nothing waits on the yield but work already there.

// heldMax bounds a held write: a request larger than fasthttp's buffers
// goes out in several writes and is not held anyway.
const heldMax = 16 << 10

// heldIdle is how long after its last answer a connection still has its
// requests held (see above).
const heldIdle = 50 * time.Millisecond

// heldWrite is the held bytes of one connection and the socket to send
// them through. The zero value holds nothing (rc nil: not a TCP socket).
type heldWrite struct {
	rc  syscall.RawConn
	buf []byte // the held bytes; empty when none
	// read's state, for its callback step (sendThenRead)
	step       func(uintptr) bool
	out, in    []byte
	sending    bool
	waited     bool
	n          int
	rerr, werr error
	answer     time.Duration // when the last read that brought bytes began (monoNow), or the connection was made
	waitRds    int           // reads after a wait that found nothing (tests: how often the wait was wrong)
}

// sysWrite and sysRead are the system calls (tests replace them).
var (
	sysWrite = syscall.Write
	sysRead  = syscall.Read
)

// init sets the socket to send through, when nc is a TCP socket.
func (h *heldWrite) init(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			h.rc = rc
			h.answer = monoNow()
		}
	}
}

// hold keeps p to be sent by the next read, when it is a whole request on
// a connection answered less than heldIdle ago (now is monoNow), and
// reports whether it did. Nothing may be held already.
func (h *heldWrite) hold(p []byte, now time.Duration) bool {
	if h.rc == nil || len(p) > heldMax || now-h.answer >= heldIdle || !requestComplete(p) {
		return false
	}
	h.buf = append(h.buf[:0], p...)
	return true
}

// pending reports whether bytes are held.
func (h *heldWrite) pending() bool { return len(h.buf) > 0 }

// flush sends the held bytes through nc (a write as any other).
func (h *heldWrite) flush(nc net.Conn) error {
	b := h.buf
	h.buf = h.buf[:0]
	_, err := nc.Write(b)
	return err
}

// read sends the held bytes, then waits for the socket and reads into p
// (see above). nc is the connection (its deadlines apply); what read
// returns is what nc's Read and Write would have.
func (h *heldWrite) read(nc net.Conn, p []byte) (int, error) {
	if h.step == nil {
		h.step = h.sendThenRead // made once: a func value per read would be an allocation
	}
	if gomaxprocs.Load() == 1 {
		// the other runnable goroutines first (see "Sends in a burst")
		runtime.Gosched()
	}
	h.out, h.in, h.sending, h.waited = h.buf, p, true, false
	h.n, h.rerr, h.werr = 0, nil, nil
	h.buf = h.buf[:0]
	err := h.rc.Read(h.step)
	rest, n, rerr, werr := h.out, h.n, h.rerr, h.werr
	h.out, h.in, h.rerr, h.werr = nil, nil, nil, nil
	switch {
	case werr != nil:
		return 0, closedAsEOF(nc, "write", werr)
	case len(rest) > 0:
		// the socket's buffer was full: the rest is sent as any write,
		// then read as any read
		if _, err := nc.Write(rest); err != nil {
			return 0, err
		}
		return nc.Read(p)
	case err != nil:
		// a deadline or a closed connection, as nc.Read says them
		var oe *net.OpError
		if errors.As(err, &oe) {
			oe.Op = "read"
		}
		return 0, err
	case rerr != nil:
		return 0, closedAsEOF(nc, "read", rerr)
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

// sendThenRead is read's RawConn callback: called first, it sends h.out
// and asks to wait (or gives up, leaving in h.out what the socket did not
// take); called again once the socket is readable, it reads into h.in.
func (h *heldWrite) sendThenRead(fd uintptr) bool {
	if h.sending {
		h.sending = false
		b := h.out
		for len(b) > 0 {
			m, e := sysWrite(int(fd), b)
			if e == syscall.EINTR {
				continue
			}
			if e != nil {
				if e != syscall.EAGAIN {
					h.werr = e
				}
				break
			}
			b = b[m:]
		}
		h.out = b
		if h.werr != nil || len(b) > 0 {
			return true
		}
		h.waited = true
		return false // sent: wait for the answer
	}
	for {
		m, e := sysRead(int(fd), h.in)
		if e == syscall.EINTR {
			continue
		}
		if e == syscall.EAGAIN {
			if h.waited {
				h.waitRds++
			}
			return false
		}
		h.n, h.rerr = m, e
		return true
	}
}

// closedAsEOF is a failed read or write of a held request as the net
// package reports it, except that a reset (or a write to a connection the
// upstream had closed) is io.EOF: what reading first would have found when
// the upstream closed the connection before the request reached it.
func closedAsEOF(nc net.Conn, op string, err error) error {
	if err == syscall.ECONNRESET || err == syscall.EPIPE {
		return io.EOF
	}
	return &net.OpError{Op: op, Net: "tcp", Source: nc.LocalAddr(), Addr: nc.RemoteAddr(),
		Err: os.NewSyscallError(op, err)}
}

var crlfcrlf = []byte("\r\n\r\n")

// requestComplete reports whether p is a whole HTTP/1 request: its header
// and, when it has a Content-Length, exactly that many body bytes. A
// chunked body (a stream), a second Content-Length or a malformed line is
// never whole.
func requestComplete(p []byte) bool {
	end := bytes.Index(p, crlfcrlf)
	if end < 0 {
		return false
	}
	body := len(p) - end - 4
	hdr := p[:end+2] // the lines, each ending in CRLF
	i := bytes.IndexByte(hdr, '\n')
	if i < 0 {
		return false
	}
	cl := -1
	for line := hdr[i+1:]; len(line) > 0; {
		j := bytes.IndexByte(line, '\n')
		if j < 1 || line[j-1] != '\r' {
			return false
		}
		l := line[:j-1]
		line = line[j+1:]
		if len(l) == 0 {
			return false
		}
		if c := l[0] | 0x20; c != 'c' && c != 't' {
			continue
		}
		k := bytes.IndexByte(l, ':')
		if k < 0 {
			return false
		}
		switch name := l[:k]; {
		case bytes.EqualFold(name, []byte("content-length")):
			if cl >= 0 {
				return false
			}
			v := bytes.TrimSpace(l[k+1:])
			if len(v) == 0 || len(v) > 9 {
				return false
			}
			cl = 0
			for _, d := range v {
				if d < '0' || d > '9' {
					return false
				}
				cl = cl*10 + int(d-'0')
			}
		case bytes.EqualFold(name, []byte("transfer-encoding")):
			return false
		}
	}
	if cl < 0 {
		return body == 0
	}
	return body == cl
}
