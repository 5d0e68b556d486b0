package proxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/router"
)

// gRPC services (protocol grpc or grpcs), as Kong's @grpc location
// (grpc_pass) proxies them: over HTTP/2 to the upstream (cleartext with
// prior knowledge for grpc, TLS with ALPN h2 for grpcs), the request body
// streamed as it comes (never buffered: calls stream both ways), the
// response streamed through the plugins' filters, and its trailers
// (grpc-status, grpc-message) passed on to an HTTP/2 client once the body
// has ended. fasthttp has no HTTP/2 client, so the standard library's
// transport carries these requests; the rest of the request path (phases,
// headers, Log) is the one HTTP/1.x upstreams take. An HTTP/1.x client
// reaches a gRPC service too (nginx's grpc_pass converts), without
// trailers.

// grpcKey is a gRPC upstream's transport (p.clients).
type grpcKey struct{ upstreamKey }

func isGRPC(scheme string) bool { return scheme == "grpc" || scheme == "grpcs" }

// grpcTransport is the HTTP/2 transport to the Service's upstream up.
func (p *Proxy) grpcTransport(s *router.Service, up *Upstream) *http.Transport {
	k := grpcKey{upstreamKey{host: up.Hostname, port: up.Port,
		connect: s.ConnectTimeout, read: s.ReadTimeout, write: s.WriteTimeout}}
	if up.Scheme == "grpcs" {
		k.tls = true
		k.sni = sniName(up.Host)
		k.verify = s.TLSVerify != nil && *s.TLSVerify
		k.depth = 1
		if s.TLSVerifyDepth != nil {
			k.depth = *s.TLSVerifyDepth
		}
		if len(s.CACertificates) > 0 {
			k.ca = joinIDs(s.CACertificates)
		}
		k.cert = s.ClientCertID
	}
	if t, ok := p.clients.Load(k); ok {
		return t.(*http.Transport)
	}
	t, _ := p.clients.LoadOrStore(k, p.newGRPCTransport(k))
	return t.(*http.Transport)
}

func joinIDs(ids []string) string {
	var b bytes.Buffer
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	return b.String()
}

func (p *Proxy) newGRPCTransport(k grpcKey) *http.Transport {
	d := &net.Dialer{Timeout: ms(k.connect), KeepAlive: 30 * time.Second}
	var ps http.Protocols
	t := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			var conn net.Conn
			var err error
			if dial := p.cfg.Dial; dial != nil {
				conn, err = dial(addr)
			} else {
				conn, err = d.DialContext(ctx, "tcp", addr)
			}
			if err != nil {
				return nil, &dialError{err}
			}
			return &timedConn{Conn: conn, read: ms(k.read), write: ms(k.write)}, nil
		},
		ResponseHeaderTimeout: ms(k.read),
		IdleConnTimeout:       60 * time.Second, // upstream_keepalive_idle_timeout
	}
	if k.tls {
		ps.SetHTTP2(true)
		conf := p.tlsConfig(k.upstreamKey)
		conf.NextProtos = []string{"h2"}
		t.TLSClientConfig = conf
		t.TLSHandshakeTimeout = ms(k.connect)
	} else {
		ps.SetUnencryptedHTTP2(true)
	}
	t.Protocols = &ps
	return t
}

// grpcSkip are the request headers not passed to a gRPC upstream: the
// hop-by-hop ones, and those the transport writes itself.
var grpcSkip = [...]string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
	"te", "host", "content-length"}

// doGRPC sends req to the gRPC upstream and reads the response's headers
// into resp, its body a stream (read whole unless resp.StreamBody); the
// trailers reach an HTTP/2 client through the stream's h2Conn.
func (p *Proxy) doGRPC(c *Context, req *fasthttp.Request, resp *fasthttp.Response) error {
	up := &c.Upstream
	scheme := "http"
	if up.Scheme == "grpcs" {
		scheme = "https"
	}
	target := scheme + "://" + net.JoinHostPort(up.Hostname, strconv.Itoa(up.Port)) + string(req.URI().PathOriginal())
	if q := req.URI().QueryString(); len(q) > 0 {
		target += "?" + string(q)
	}
	var body io.Reader = http.NoBody
	length := int64(0)
	if req.IsBodyStream() {
		body, length = req.BodyStream(), -1
		if in, ok := body.(*bodyIn); ok && in == &c.in {
			// its own reader: a call's request body is still read after
			// the response has begun, past the Context's release
			body = &bodyIn{r: in.r, max: in.max}
		}
		if cl := req.Header.ContentLength(); cl >= 0 {
			length = int64(cl)
		}
	} else if b := req.Body(); len(b) > 0 {
		body, length = bytes.NewReader(b), int64(len(b))
	}
	hr, err := http.NewRequest(b2s(req.Header.Method()), target, body)
	if err != nil {
		return err
	}
	hr.ContentLength = length
	hr.Host = up.Host
	req.Header.VisitAll(func(k, v []byte) {
		for _, n := range grpcSkip {
			if equalFold(k, s2b(n)) {
				return
			}
		}
		hr.Header.Add(string(k), string(v))
	})
	hr.Header.Set("Te", "trailers")
	res, err := p.grpcTransport(c.Match.Service, up).RoundTrip(hr)
	if err != nil {
		return err
	}
	resp.SetStatusCode(res.StatusCode)
	h := &resp.Header
	for k, vs := range res.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if c.h2 != nil {
		c.h2.trailer = &res.Trailer
	}
	if !resp.StreamBody {
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		resp.SetBody(b)
		return nil
	}
	resp.SetBodyStream(res.Body, -1)
	return nil
}
