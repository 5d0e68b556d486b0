// Package wstest is a minimal WebSocket (RFC 6455) upstream and client
// over real sockets, for the proxy's and the host's tests: the opening
// handshake and unfragmented frames, nothing more. It uses the standard
// library only.
package wstest

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
)

// Opcodes.
const (
	OpText   = 0x1
	OpBinary = 0x2
	OpClose  = 0x8
	OpPing   = 0x9
	OpPong   = 0xA
)

const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Accept is the Sec-WebSocket-Accept for a Sec-WebSocket-Key.
func Accept(key string) string {
	h := sha1.Sum([]byte(key + guid))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Request is an opening handshake as the upstream read it.
type Request struct {
	Line  string   // the request line
	Lines []string // the header lines as sent ("Name: value")
}

// Values is every value of the header named name (any case), in order.
func (r *Request) Values(name string) []string {
	var out []string
	for _, l := range r.Lines {
		k, v, _ := strings.Cut(l, ":")
		if strings.EqualFold(k, name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// Upstream is a WebSocket echo server. On a handshake it answers 101 and
// sends a text frame "hello" in the same write; then it echoes every data
// frame, answers a ping with a pong and a close with a close (then closes).
// A text frame "close-now" makes it close the connection at once. A
// request whose path starts with /refuse is answered 400 with a body,
// /refuse-chunked the same in chunks, and the connection is then kept
// until the other side closes it; one starting with /silent gets the
// 101 and nothing more (no greeting, no echo: it reads until closed).
type Upstream struct {
	Addr string
	Port int
	// OddCase makes the 101 spell Upgrade and Connection "UPGRADE" and
	// "connection" (and Upgrade's value "WebSocket").
	OddCase bool

	ln     net.Listener
	mu     sync.Mutex
	reqs   []*Request
	open   int
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	closed chan struct{} // a connection ended
}

// NewUpstream listens on 127.0.0.1 (TLS with cfg when not nil); Close
// stops it.
func NewUpstream(cfg *tls.Config) (*Upstream, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	u := &Upstream{ln: ln, Addr: ln.Addr().String(), Port: ln.Addr().(*net.TCPAddr).Port,
		closed: make(chan struct{}, 64), conns: map[net.Conn]struct{}{}}
	u.wg.Add(1)
	go u.accept()
	return u, nil
}

func (u *Upstream) accept() {
	defer u.wg.Done()
	for {
		c, err := u.ln.Accept()
		if err != nil {
			return
		}
		u.mu.Lock()
		u.open++
		u.conns[c] = struct{}{}
		u.mu.Unlock()
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			u.serve(c)
			c.Close()
			u.mu.Lock()
			u.open--
			delete(u.conns, c)
			u.mu.Unlock()
			select {
			case u.closed <- struct{}{}:
			default:
			}
		}()
	}
}

// Close stops listening, closes the connections and waits for their
// handlers.
func (u *Upstream) Close() {
	u.ln.Close()
	u.mu.Lock()
	for c := range u.conns {
		c.Close()
	}
	u.mu.Unlock()
	u.wg.Wait()
}

// Requests are the handshakes read so far.
func (u *Upstream) Requests() []*Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*Request(nil), u.reqs...)
}

// Open is how many connections are being served.
func (u *Upstream) Open() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.open
}

// Ended is told once per connection whose handler returned (up to 64
// unread).
func (u *Upstream) Ended() <-chan struct{} { return u.closed }

func (u *Upstream) serve(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := readHead(br)
	if err != nil {
		return
	}
	u.mu.Lock()
	u.reqs = append(u.reqs, req)
	u.mu.Unlock()
	path := strings.Fields(req.Line + "  ")[1]
	switch {
	case strings.HasPrefix(path, "/refuse-chunked"):
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"4\r\nnot \r\n0b\r\na websocket\r\n0\r\n\r\n")
		io.Copy(io.Discard, br) // until the proxy closes
		return
	case strings.HasPrefix(path, "/refuse"):
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 15\r\n\r\nnot a websocket")
		io.Copy(io.Discard, br) // until the proxy closes
		return
	}
	keys := req.Values("Sec-WebSocket-Key")
	if len(keys) != 1 || len(req.Values("Upgrade")) != 1 || !strings.EqualFold(req.Values("Upgrade")[0], "websocket") {
		io.WriteString(c, "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n")
		return
	}
	upg, conn, val := "Upgrade", "Connection", "websocket"
	if u.OddCase {
		upg, conn, val = "UPGRADE", "connection", "WebSocket"
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\n" + upg + ": " + val + "\r\n" + conn + ": Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + Accept(keys[0]) + "\r\n\r\n"
	silent := strings.HasPrefix(path, "/silent")
	if !silent {
		resp += string(AppendFrame(nil, OpText, []byte("hello"), false))
	}
	if _, err := io.WriteString(c, resp); err != nil {
		return
	}
	for {
		op, payload, err := ReadFrame(br)
		if err != nil {
			return
		}
		if silent {
			continue
		}
		switch op {
		case OpClose:
			c.Write(AppendFrame(nil, OpClose, payload, false))
			return
		case OpPing:
			if _, err := c.Write(AppendFrame(nil, OpPong, payload, false)); err != nil {
				return
			}
		case OpText, OpBinary:
			if op == OpText && string(payload) == "close-now" {
				return
			}
			if _, err := c.Write(AppendFrame(nil, op, payload, false)); err != nil {
				return
			}
		}
	}
}

// readHead reads a request or response head: its first line and header
// lines.
func readHead(br *bufio.Reader) (*Request, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	r := &Request{Line: strings.TrimRight(line, "\r\n")}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			return r, nil
		}
		r.Lines = append(r.Lines, l)
	}
}

// AppendFrame appends one unfragmented frame; masked as a client sends
// them.
func AppendFrame(b []byte, op byte, payload []byte, masked bool) []byte {
	b = append(b, 0x80|op)
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xFFFF:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	var key [4]byte
	rand.Read(key[:])
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// ReadFrame reads one frame (unmasking it); fragmented frames are not
// supported.
func ReadFrame(r io.Reader) (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 {
		return 0, nil, errors.New("wstest: fragmented frame")
	}
	op = h[0] & 0x0F
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var l [2]byte
		if _, err = io.ReadFull(r, l[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err = io.ReadFull(r, l[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	if n > 64<<20 {
		return 0, nil, errors.New("wstest: frame too large")
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err = io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return op, payload, nil
}

// Conn is a client's connection after its handshake (or after a refused
// one: Status and Body tell).
type Conn struct {
	net.Conn
	BR     *bufio.Reader
	Status int
	Head   *Request // the response's status line and header lines
	Body   string   // a non-101 answer's body (Content-Length or chunked)
}

// Header is a response header's values (any case of name).
func (c *Conn) Header(name string) []string { return c.Head.Values(name) }

// Dial connects to addr (over TLS when cfg is not nil) and sends a
// WebSocket handshake for path with hdr's lines ("Name: value", sent as
// written) after Host; without a line naming Upgrade, Connection or
// Sec-WebSocket-Key/-Version it sends the usual one. It returns the
// connection whatever the status.
func Dial(addr, path string, cfg *tls.Config, hdr ...string) (*Conn, error) {
	var nc net.Conn
	var err error
	if cfg != nil {
		nc, err = tls.Dial("tcp", addr, cfg)
	} else {
		nc, err = net.Dial("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	var key [16]byte
	rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	has := func(name string) bool {
		for _, l := range hdr {
			if n, _, _ := strings.Cut(l, ":"); strings.EqualFold(n, name) {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, addr)
	for _, l := range hdr {
		b.WriteString(l + "\r\n")
	}
	for _, d := range [][2]string{{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Key", k}, {"Sec-WebSocket-Version", "13"}} {
		if !has(d[0]) {
			b.WriteString(d[0] + ": " + d[1] + "\r\n")
		}
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(nc, b.String()); err != nil {
		nc.Close()
		return nil, err
	}
	c := &Conn{Conn: nc, BR: bufio.NewReader(nc)}
	if err := c.readResponse(); err != nil {
		nc.Close()
		return nil, err
	}
	if c.Status == 101 {
		if got := c.Header("Sec-WebSocket-Accept"); !has("Sec-WebSocket-Key") && (len(got) != 1 || got[0] != Accept(k)) {
			nc.Close()
			return nil, fmt.Errorf("wstest: Sec-WebSocket-Accept %q, want %q", got, Accept(k))
		}
	}
	return c, nil
}

// readResponse reads a response head, and the body of one that is not a
// 101.
func (c *Conn) readResponse() error {
	head, err := readHead(c.BR)
	if err != nil {
		return err
	}
	c.Head = head
	f := strings.Fields(head.Line)
	if len(f) < 2 {
		return fmt.Errorf("wstest: status line %q", head.Line)
	}
	if c.Status, err = strconv.Atoi(f[1]); err != nil {
		return err
	}
	if c.Status == 101 {
		return nil
	}
	var body []byte
	if cl := c.Header("Content-Length"); len(cl) == 1 {
		n, err := strconv.Atoi(cl[0])
		if err != nil {
			return err
		}
		body = make([]byte, n)
		if _, err := io.ReadFull(c.BR, body); err != nil {
			return err
		}
	} else if te := c.Header("Transfer-Encoding"); len(te) == 1 && strings.EqualFold(te[0], "chunked") {
		for {
			l, err := c.BR.ReadString('\n')
			if err != nil {
				return err
			}
			n, err := strconv.ParseInt(strings.TrimSpace(l), 16, 64)
			if err != nil {
				return err
			}
			if n == 0 {
				_, err = c.BR.ReadString('\n')
				c.Body = string(body)
				return err
			}
			chunk := make([]byte, n+2)
			if _, err := io.ReadFull(c.BR, chunk); err != nil {
				return err
			}
			body = append(body, chunk[:n]...)
		}
	}
	c.Body = string(body)
	return nil
}

// Send writes a masked frame.
func (c *Conn) Send(op byte, payload []byte) error {
	_, err := c.Write(AppendFrame(nil, op, payload, true))
	return err
}

// Recv reads a frame.
func (c *Conn) Recv() (byte, []byte, error) { return ReadFrame(c.BR) }

// Get sends a plain GET for path on the connection (after a refused
// upgrade: the connection is an HTTP one still) and reads the answer.
func (c *Conn) Get(path, host string) error {
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n"); err != nil {
		return err
	}
	return c.readResponse()
}
