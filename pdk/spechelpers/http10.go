package spechelpers

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// doHTTP10 sends req as an HTTP/1.0 request, as lua-resty-http does with
// send{ version = 1.0 }: Go's client only speaks HTTP/1.1 and later, so the
// request goes out by hand on a connection of its own (over TLS with sni
// for https, verifying nothing as the spec clients), and the response is
// read from it; the connection closes with the response's body.
func doHTTP10(req *http.Request, sni string, body string) (*http.Response, error) {
	addr := req.URL.Host
	if req.URL.Port() == "" {
		if req.URL.Scheme == "https" {
			addr = net.JoinHostPort(req.URL.Hostname(), "443")
		} else {
			addr = net.JoinHostPort(req.URL.Hostname(), "80")
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(req.Context(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := req.Context().Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if req.URL.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: sni}) //nolint:gosec // Kong's spec clients verify nothing
		if err := tc.HandshakeContext(req.Context()); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	var b strings.Builder
	b.WriteString(req.Method + " " + req.URL.RequestURI() + " HTTP/1.0\r\n")
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	b.WriteString("Host: " + host + "\r\n")
	h := req.Header.Clone()
	h.Del("Host")
	if body != "" && h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	var hb strings.Builder
	if err := h.Write(&hb); err != nil {
		conn.Close()
		return nil, err
	}
	b.WriteString(hb.String())
	b.WriteString("\r\n")
	b.WriteString(body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		conn.Close()
		return nil, err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	res.Body = closeBoth{res.Body, conn}
	return res, nil
}

type closeBoth struct {
	io.ReadCloser
	conn net.Conn
}

func (c closeBoth) Close() error {
	err := c.ReadCloser.Close()
	c.conn.Close()
	return err
}
