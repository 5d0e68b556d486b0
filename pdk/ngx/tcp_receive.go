package ngx

import (
	"bytes"
	"errors"
	"os"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// The reading methods share the socket's buffer, as ngx_lua's receive,
// receiveany and receiveuntil iterators do: what one leaves, the next
// reads first.

// grow makes room for n more bytes in the buffer, charging the memory
// budget for what a larger buffer costs.
func (s *TCPSocket) grow(L *lua.LState, n int) {
	if cap(s.buf)-len(s.buf) >= n {
		return
	}
	c := max(2*cap(s.buf), len(s.buf)+n)
	s.env.Budget.Reserve(L, int64(c), 1)
	b := make([]byte, len(s.buf), c)
	copy(b, s.buf)
	s.buf = b
}

// fill reads once from the connection into the buffer, waiting at most
// the read timeout.
func (s *TCPSocket) fill(L *lua.LState) error {
	s.grow(L, tcpReadChunk)
	_ = s.conn.SetReadDeadline(deadline(s.timeout(s.readTO)))
	// a guard that fired before this deadline was set moved an earlier one
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		return os.ErrDeadlineExceeded
	}
	n, err := s.conn.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if n > 0 {
		return nil
	}
	return err
}

// take returns the buffer's first n bytes as a Lua string and drops them.
func (s *TCPSocket) take(n int) lua.LString {
	v := lua.LString(s.buf[:n])
	m := copy(s.buf, s.buf[n:])
	s.buf = s.buf[:m]
	return v
}

// readErr is a failed read's message: a read timeout keeps the
// connection, any other error closes it.
func (s *TCPSocket) readErr(L *lua.LState, err error) string {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "timeout"
	}
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		return "timeout"
	}
	s.finalize()
	return sockErr(err)
}

// readFail returns nil, err, partial: the partial data is what the buffer
// held (for a line, without its CRs).
func (s *TCPSocket) readFail(L *lua.LState, err error, partial lua.LString) int {
	msg := s.readErr(L, err)
	L.Push(lua.LNil)
	L.Push(lua.LString(msg))
	L.Push(partial)
	return 3
}

// tcpReceive is receive(pattern?): "*l" (the default: a line, its LF
// dropped and every CR in it ignored), "*a" (up to the peer's close, no
// error then), or a number of bytes (a numeric string counts).
func tcpReceive(L *lua.LState) int {
	n := L.GetTop()
	argCount(L, n == 1 || n == 2, "expecting 1 or 2 arguments (including the object)")
	s := checkTCP(L)
	mode, size := byte('l'), 0
	if n == 2 {
		switch v := L.Get(2).(type) {
		case lua.LNumber:
			size = patternSize(L, float64(v))
			mode = 0
		case lua.LString:
			if f, ok := luavm.ToNumber(v); ok {
				size = patternSize(L, f)
				mode = 0
				break
			}
			if len(v) != 2 || v[0] != '*' {
				argError(L, "receive", 2, "bad pattern argument: "+string(v))
			}
			if mode = v[1]; mode != 'l' && mode != 'a' {
				argError(L, "receive", 2, "bad pattern argument")
			}
		default:
			argError(L, "receive", 2, "bad pattern argument")
		}
	}
	if s.conn == nil {
		return bind.Fail(L, "closed")
	}
	s.mine(L)
	stop := guard(L, s.conn)
	defer stop()
	switch mode {
	case 'l':
		from := 0
		for {
			if i := bytes.IndexByte(s.buf[from:], '\n'); i >= 0 {
				line := stripCR(s.buf[:from+i])
				s.take(from + i + 1)
				L.Push(line)
				return 1
			}
			from = len(s.buf)
			if err := s.fill(L); err != nil {
				partial := stripCR(s.buf)
				s.take(len(s.buf))
				return s.readFail(L, err, partial)
			}
		}
	case 'a':
		for {
			if err := s.fill(L); err != nil {
				data := s.take(len(s.buf))
				if sockErr(err) == "closed" {
					s.finalize()
					L.Push(data)
					return 1
				}
				return s.readFail(L, err, data)
			}
		}
	}
	if size > len(s.buf) {
		s.grow(L, size-len(s.buf))
	}
	for len(s.buf) < size {
		if err := s.fill(L); err != nil {
			return s.readFail(L, err, s.take(len(s.buf)))
		}
	}
	L.Push(s.take(size))
	return 1
}

// patternSize is receive's byte count: negative raises as ngx_lua.
func patternSize(L *lua.LState, f float64) int {
	if f < 0 || f != f {
		argError(L, "receive", 2, "bad pattern argument")
	}
	return int(bind.ClampSize(f))
}

func stripCR(b []byte) lua.LString {
	if bytes.IndexByte(b, '\r') < 0 {
		return lua.LString(b)
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c != '\r' {
			out = append(out, c)
		}
	}
	return lua.LString(out)
}

// tcpReceiveAny is receiveany(max): what has arrived, at most max bytes,
// waiting only when nothing has.
func tcpReceiveAny(L *lua.LState) int {
	argCount(L, L.GetTop() == 2, "expecting 2 arguments (including the object)")
	s := checkTCP(L)
	v, ok := luavm.ToNumber(L.Get(2))
	if !ok || v < 1 {
		argError(L, "receiveany", 2, "bad max argument")
	}
	limit := int(bind.ClampSize(v))
	if s.conn == nil {
		return bind.Fail(L, "closed")
	}
	s.mine(L)
	if len(s.buf) == 0 {
		stop := guard(L, s.conn)
		err := s.fill(L)
		stop()
		if err != nil {
			return bind.Fail(L, s.readErr(L, err))
		}
	}
	L.Push(s.take(min(limit, len(s.buf))))
	return 1
}

// untilReader is the state of one receiveuntil iterator.
type untilReader struct {
	s         *TCPSocket
	pat       []byte
	inclusive bool
	done      bool // a sized read met the pattern: the next call answers nil
}

// tcpReceiveUntil is receiveuntil(pattern, {inclusive = bool}?): an
// iterator reading up to the pattern. reader() returns the data before
// it (with it, inclusive), dropping the pattern from the stream;
// reader(size) returns it in chunks of at most size bytes, then one nil
// (no error) once the pattern is passed, after which it starts again.
// Errors are nil, err, partial.
func tcpReceiveUntil(L *lua.LState) int {
	n := L.GetTop()
	argCount(L, n == 2 || n == 3, "expecting 2 or 3 arguments (including the object)")
	s := checkTCP(L)
	pat := luavm.CheckString(L, 2)
	r := &untilReader{s: s, pat: []byte(pat)}
	if n == 3 {
		opts := L.CheckTable(3)
		switch v := opts.RawGetString("inclusive").(type) {
		case lua.LBool:
			r.inclusive = bool(v)
		default:
			if v != lua.LNil {
				L.RaiseError("bad \"inclusive\" option value type: %s", v.Type().String())
			}
		}
	}
	if pat == "" {
		return bind.Fail(L, "pattern is empty")
	}
	L.Push(L.NewFunction(r.read))
	return 1
}

func (r *untilReader) read(L *lua.LState) int {
	n := L.GetTop()
	if n > 1 {
		L.RaiseError("expecting 0 or 1 arguments, but seen %d", n)
	}
	size := 0
	if n == 1 {
		size = max(L.CheckInt(1), 0)
	}
	s := r.s
	if s.conn == nil {
		return bind.Fail(L, "closed")
	}
	s.mine(L)
	if r.done {
		r.done = false
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		return 3
	}
	stop := guard(L, s.conn)
	defer stop()
	from := 0
	for {
		if i := bytes.Index(s.buf[from:], r.pat); i >= 0 {
			i += from
			if size > 0 && i > size {
				L.Push(s.take(size))
				return 1
			}
			data := s.take(i)
			s.take(len(r.pat))
			if r.inclusive {
				data += lua.LString(r.pat)
			}
			r.done = size > 0
			L.Push(data)
			return 1
		}
		// bytes that cannot begin the pattern are final
		safe := len(s.buf) - partialMatch(s.buf, r.pat)
		if size > 0 && safe >= size {
			L.Push(s.take(size))
			return 1
		}
		from = safe
		if err := s.fill(L); err != nil {
			return s.readFail(L, err, s.take(len(s.buf)))
		}
	}
}

// partialMatch is the length of the longest end of b that begins pat
// (shorter than pat).
func partialMatch(b, pat []byte) int {
	for k := min(len(pat)-1, len(b)); k > 0; k-- {
		if bytes.Equal(b[len(b)-k:], pat[:k]) {
			return k
		}
	}
	return 0
}
