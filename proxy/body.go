package proxy

import (
	"errors"
	"io"
	"os"

	"github.com/valyala/fasthttp"
)

// The request body. fasthttp's server streams it (StreamRequestBody): the
// handler runs once the headers are read, with at most prefetchMax bytes of
// the body already read. The Route's request_buffering picks how it goes
// upstream, as Kong picks a location with proxy_request_buffering on or off
// (handler.lua access.before):
//
//   - on (Kong's default), or buffered proxying (a plugin with a response
//     handler: Kong.response reads the body first): the whole body is read
//     once access is over, before the upstream is called, in memory up to
//     client_body_buffer_size and the rest in a temporary file, as nginx
//     reads it; it goes upstream with its Content-Length, a chunked body
//     de-chunked (its trailer fields dropped, as nginx drops them). A body
//     past client_max_body_size, malformed or cut short is answered 413 or
//     400 and the upstream is not called.
//   - off: a body that is whole in memory by then is sent as it is; a
//     longer one (or a chunked one: it stays chunked) is streamed to the
//     upstream through bodyIn as it arrives.
//
// Either way a plugin that read the body (Context.RequestBody) has it
// whole in memory, and it is sent so.

// prefetchMax is how much of a body with a Content-Length fasthttp reads
// before the handler runs (readBodyWithStreaming's 8 KiB): up to it, the
// body is in memory and costs nothing to read whole.
const prefetchMax = 8 << 10

// errBodyTooLarge is a chunked body going past client_max_body_size.
var errBodyTooLarge = fasthttp.ErrBodyTooLarge

// bodyIn is the client's streamed request body on its way upstream: it
// counts what it passes on, stops past client_max_body_size (a chunked body
// has no length to check up front), and keeps the error of a failed read
// so that a client's fault is told apart from the upstream's.
type bodyIn struct {
	r   io.Reader
	n   int
	max int
	err error
}

func (b *bodyIn) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += n
	if b.n > b.max {
		b.err = errBodyTooLarge
		return 0, b.err
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// RequestBody is the client's whole request body (kong.request.get_raw_body,
// ngx.req.read_body): read now if it was not yet, and then sent upstream as
// read (or as a plugin replaced it with Request.SetBody). If reading fails
// (more than client_max_body_size, a malformed chunked body, the client
// gone), it returns what was read, RequestBodyErr tells why, and the request
// is answered with nginx's 413 or 400 once the phase returns, as
// ngx.req.read_body ends the request.
func (c *Context) RequestBody() []byte {
	req := &c.RequestCtx.Request
	if !req.IsBodyStream() {
		return req.Body()
	}
	src := req.BodyStream()
	max := c.p.cfg.maxBody()
	b := c.reqBody[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := src.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > max {
			c.bodyErr = errBodyTooLarge
			b = b[:max]
			break
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			c.bodyErr = err
			break
		}
	}
	c.reqBody = b
	req.SetBodyRaw(b)
	return b
}

// RequestBodyErr is why reading the request body failed, if it did
// (RequestBody, or streaming it to the upstream).
func (c *Context) RequestBodyErr() error { return c.bodyErr }

// readWhole reads the client's whole body before the upstream is called
// (nginx's proxy_request_buffering on): in memory up to
// client_body_buffer_size, beyond it in a temporary file (removed at once:
// it lives as long as it is open), and makes it the request's body, sent
// with its length. It reports false, with RequestBodyErr set, if reading
// failed.
func (c *Context) readWhole() bool {
	req := &c.RequestCtx.Request
	src := req.BodyStream()
	max := c.p.cfg.maxBody()
	mem := c.p.cfg.bodyBuffer()
	b := c.reqBody[:0]
	for {
		if len(b) >= mem {
			return c.spill(src, b, max)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := src.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > max {
			c.bodyErr = errBodyTooLarge
		} else if err != nil && err != io.EOF {
			c.bodyErr = err
		}
		if c.bodyErr != nil {
			c.reqBody = b[:0]
			return false
		}
		if err == io.EOF {
			break
		}
	}
	c.reqBody = b
	req.SetBodyRaw(b)
	return true
}

// errBodyTemp is a body that could not be written to its temporary file
// (nginx answers 500).
var errBodyTemp = errors.New("cannot buffer the request body")

// spill writes head, the body read so far, then the rest of src to a
// temporary file, which becomes the request's body.
func (c *Context) spill(src io.Reader, head []byte, max int) bool {
	c.reqBody = head[:0]
	f, err := os.CreateTemp(c.p.cfg.ClientBodyTempPath, "luahost-body-")
	if err != nil {
		c.bodyErr = errors.Join(errBodyTemp, err)
		return false
	}
	c.spool = f
	if os.Remove(f.Name()) != nil {
		c.spoolName = f.Name() // removed once closed (closeSpool)
	}
	n := int64(len(head))
	if _, err = f.Write(head); err != nil {
		c.bodyErr = errors.Join(errBodyTemp, err)
		c.closeSpool()
		return false
	}
	buf := head[:cap(head)] // written: free again
	if len(buf) < chunkSize {
		buf = make([]byte, chunkSize)
	}
	for err == nil {
		var k int
		k, err = src.Read(buf)
		n += int64(k)
		if n > int64(max) {
			c.bodyErr = errBodyTooLarge
			break
		}
		if k > 0 {
			if _, werr := f.Write(buf[:k]); werr != nil {
				c.bodyErr = errors.Join(errBodyTemp, werr)
				break
			}
		}
	}
	if c.bodyErr == nil && err != io.EOF {
		c.bodyErr = err
	}
	if c.bodyErr != nil {
		c.closeSpool()
		return false
	}
	c.spoolSize = n
	c.rewindSpool()
	return true
}

// rewindSpool makes the temporary file, from its start, the request's body
// (again, for a retry).
func (c *Context) rewindSpool() {
	c.RequestCtx.Request.SetBodyStream(io.NewSectionReader(c.spool, 0, c.spoolSize), int(c.spoolSize))
}

// closeSpool closes (and removes) the body's temporary file, if any.
func (c *Context) closeSpool() {
	if c.spool == nil {
		return
	}
	c.spool.Close()
	if c.spoolName != "" {
		os.Remove(c.spoolName)
	}
	c.spool, c.spoolName, c.spoolSize = nil, "", 0
}

// dropTrailers removes the request's trailer fields and the Trailer
// header announcing them, for a body sent whole with its length (nginx
// reads a chunked body's trailer section and drops it). Rare: it
// allocates.
func dropTrailers(h *fasthttp.RequestHeader) {
	var names [][]byte
	for t := range h.Trailers() {
		names = append(names, append([]byte(nil), t...))
	}
	if names == nil {
		return
	}
	asSent := h.DisableNormalizing() // DelBytes then deletes the name as it is
	for _, n := range names {
		h.DelBytes(n)
	}
	if !asSent {
		h.EnableNormalizing()
	}
	h.SetTrailerBytes(nil) //nolint:errcheck // no name to check
}

// bodyFailed answers a request whose body could not be read as nginx
// does: 413 past client_max_body_size, 500 when it could not be buffered,
// 400 otherwise, and the connection closed (the rest of the body is
// unread).
func (p *Proxy) bodyFailed(c *Context) {
	status := 400
	switch {
	case errors.Is(c.bodyErr, errBodyTooLarge):
		status = 413
	case errors.Is(c.bodyErr, errBodyTemp):
		status = 500
	}
	// Answered as Kong does (its error page, after an internal
	// redirect): not as a proxied response.
	c.Proxied = false
	p.nginxError(c, status)
	c.RequestCtx.SetConnectionClose()
}

// bodyOut is the response body as the server writes it when plugins run:
// an upstream body streamed chunk by chunk through BodyFilter, or a body
// known whole (Kong's own answers, a buffered upstream response) already
// filtered. Its CloseWithError is fasthttp's call once the response is
// written (or failed), the point Log is run from (see logconn.go).
type bodyOut struct {
	c    *Context
	src  io.Reader // the upstream's body stream; nil for a body known whole
	data []byte    // filtered bytes not yet written
	eof  bool
	buf  []byte
}

// chunkSize is the most read from the upstream for one BodyFilter call
// (nginx hands body_filter what one read of its proxy buffers got).
const chunkSize = 16 << 10

func (o *bodyOut) Read(p []byte) (int, error) {
	for len(o.data) == 0 {
		if o.eof {
			return 0, io.EOF
		}
		if err := o.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, o.data)
	o.data = o.data[n:]
	return n, nil
}

// WriteTo writes each filtered chunk as it comes, whatever its size.
func (o *bodyOut) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(o.data) > 0 {
			n, err := w.Write(o.data)
			total += int64(n)
			o.data = o.data[n:]
			if err != nil {
				return total, err
			}
		}
		if o.eof {
			return total, nil
		}
		if err := o.next(); err != nil {
			return total, err
		}
	}
}

// SupportsBodyWriteTo lets fasthttp use WriteTo for a chunked body too.
func (o *bodyOut) SupportsBodyWriteTo() bool { return true }

// next reads the upstream's next chunk and runs BodyFilter on it; at the
// upstream's end, BodyFilter runs with BodyEOF set (with an empty chunk if
// the end came alone, as nginx's last buffer).
func (o *bodyOut) next() error {
	if o.src == nil {
		o.eof = true
		return nil
	}
	if o.buf == nil {
		o.buf = make([]byte, chunkSize)
	}
	n, err := o.src.Read(o.buf)
	eof := err == io.EOF
	if err != nil && !eof {
		o.c.UpstreamErr = err
		o.c.p.midBodyFailure(o.c, err)
		return err
	}
	if n == 0 && !eof {
		return nil
	}
	c := o.c
	c.BodyChunk, c.BodyEOF = o.buf[:n], eof
	c.ph.BodyFilter(c)
	// A filter setting ngx.arg[2] ends the body there (the rest of the
	// upstream's is dropped, its connection closed).
	o.data, o.eof = c.BodyChunk, eof || c.BodyEOF
	return nil
}

// CloseWithError is called by fasthttp once the response was written, or
// failed to be (err): the upstream's connection goes back to its pool if
// its body was read to the end (closed otherwise), and Log is scheduled.
func (o *bodyOut) CloseWithError(err error) error {
	c := o.c
	if o.src != nil {
		c.upResp.CloseBodyStream() //nolint:errcheck // closes the connection if the body was not read to its end
		o.src = nil
	}
	o.data = nil
	c.p.written(c, err)
	return nil
}

// streamSize is the size to send a streamed body with: the Content-Length
// the response has after HeaderFilter, or -1 (chunked) when there is none
// (a plugin cleared it, or the upstream sent none).
func streamSize(h *fasthttp.ResponseHeader) int {
	n := h.ContentLength()
	if n >= 0 && len(h.Peek(fasthttp.HeaderContentLength)) == 0 {
		return -1
	}
	if n < -1 {
		return -1
	}
	return n
}
