package spechelpers

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MockUpstream is the in-process stand-in for Kong's spec/fixtures
// mock_upstream: it echoes the request it received as JSON, in the shape
// Kong's answers have (headers, uri_args, post_data, vars, url).
type MockUpstream struct {
	ln  net.Listener
	srv *http.Server
	// sslLn is the TLS side's listener (ListenTLS), nil until then
	sslLn  net.Listener
	sslSrv *http.Server
}

// StartMockUpstream listens on addr ("127.0.0.1:0" for any port) and
// serves until Close.
func StartMockUpstream(addr string) (*MockUpstream, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &MockUpstream{ln: ln, srv: &http.Server{Handler: MockHandler()}}
	go m.srv.Serve(ln)
	return m, nil
}

// Port is the port the mock upstream listens on.
func (m *MockUpstream) Port() int { return m.ln.Addr().(*net.TCPAddr).Port }

// ListenTLS serves the same mock upstream over TLS on addr as well
// (Kong's mock_upstream_ssl_port), with the test certificate (CN
// localhost) and HTTP/1.1 only, as Kong's nginx server block.
func (m *MockUpstream) ListenTLS(addr string) error {
	cert, err := testCertificate()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	m.sslLn = ln
	m.sslSrv = &http.Server{Handler: MockHandler(),
		// an empty non-nil map keeps net/http from offering h2
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	cfg := &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"http/1.1"}}
	go m.sslSrv.Serve(tls.NewListener(ln, cfg))
	return nil
}

// SSLPort is the port of the TLS side, 0 before ListenTLS.
func (m *MockUpstream) SSLPort() int {
	if m.sslLn == nil {
		return 0
	}
	return m.sslLn.Addr().(*net.TCPAddr).Port
}

// Close stops the mock upstream, both sides.
func (m *MockUpstream) Close() error {
	if m.sslSrv != nil {
		m.sslSrv.Close()
	}
	return m.srv.Close()
}

// MockHandler answers Kong's mock_upstream paths: /, /request, /anything,
// /get, /post, /status/{code}, /response-headers, /cache/{n},
// /delay/{s}, /basic-auth/{user}/{password}, /xml.
func MockHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/" || p == "/request" || strings.HasPrefix(p, "/request/") ||
			p == "/anything" || strings.HasPrefix(p, "/anything/"):
			echo(w, r, http.StatusOK)
		case p == "/get":
			if r.Method != http.MethodGet {
				methodNotAllowed(w)
				return
			}
			echo(w, r, http.StatusOK)
		case p == "/post":
			if r.Method != http.MethodPost {
				methodNotAllowed(w)
				return
			}
			echo(w, r, http.StatusOK)
		case strings.HasPrefix(p, "/status/"):
			code, err := strconv.Atoi(strings.TrimPrefix(p, "/status/"))
			if err != nil || code < 100 || code > 999 {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid status code"})
				return
			}
			echo(w, r, code)
		case strings.HasPrefix(p, "/cache/"):
			n, err := strconv.Atoi(strings.TrimPrefix(p, "/cache/"))
			if err != nil || n < 0 {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid cache time"})
				return
			}
			w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(n))
			echo(w, r, http.StatusOK)
		case strings.HasPrefix(p, "/delay/"):
			secs, err := strconv.ParseFloat(strings.TrimPrefix(p, "/delay/"), 64)
			if err != nil || secs < 0 || secs > 10 {
				writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid delay"})
				return
			}
			// the delay is what a spec of upstream timeouts asks for; the
			// client going away ends it
			select {
			case <-time.After(time.Duration(secs * float64(time.Second))):
			case <-r.Context().Done():
				return
			}
			echo(w, r, http.StatusOK)
		case strings.HasPrefix(p, "/basic-auth/"):
			parts := strings.Split(strings.TrimPrefix(p, "/basic-auth/"), "/")
			user, pass, ok := r.BasicAuth()
			if len(parts) != 2 || !ok || user != parts[0] || pass != parts[1] {
				w.Header().Set("WWW-Authenticate", `Basic realm="Fake Realm"`)
				writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Unauthorized"})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"authenticated": true, "user": user})
		case p == "/xml":
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<note>\n  <body>Kong, Monolith destroyer.</body>\n</note>\n")
		case p == "/response-headers":
			for k, vs := range r.URL.Query() {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			echo(w, r, http.StatusOK)
		default:
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not found"})
		}
	})
}

func methodNotAllowed(w http.ResponseWriter) {
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "Method not allowed"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// echo writes the request as Kong's mock upstream does: lower-case header
// names, a single value as a string and repeats as an array; uri_args the
// same; post_data with text, kind and params for form and JSON bodies.
func echo(w http.ResponseWriter, r *http.Request, status int) {
	body, _ := io.ReadAll(r.Body)
	headers := map[string]any{"host": r.Host}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = oneOrMany(vs)
	}
	args := map[string]any{}
	for k, vs := range r.URL.Query() {
		args[k] = oneOrMany(vs)
	}
	post := map[string]any{"text": string(body)}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		post["kind"] = "form"
		params := map[string]any{}
		if v, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range v {
				params[k] = oneOrMany(vs)
			}
		}
		post["params"] = params
	case strings.HasPrefix(ct, "application/json"):
		post["kind"] = "json"
		var v any
		if err := json.Unmarshal(body, &v); err == nil {
			post["params"] = v
		} else {
			post["error"] = err.Error()
		}
	default:
		post["kind"] = "unknown"
	}
	host, port, _ := net.SplitHostPort(r.Host)
	if host == "" {
		host = r.Host
	}
	raddr, _, _ := net.SplitHostPort(r.RemoteAddr)
	uri := r.URL.RequestURI()
	// nginx's $scheme and $https: "https" and "on" over TLS
	scheme, https := "http", ""
	if r.TLS != nil {
		scheme, https = "https", "on"
	}
	vars := map[string]any{
		"uri":             r.URL.Path,
		"host":            host,
		"hostname":        host,
		"https":           https,
		"scheme":          scheme,
		"is_args":         "",
		"server_addr":     "127.0.0.1",
		"server_port":     port,
		"remote_addr":     raddr,
		"request":         r.Method + " " + uri + " " + r.Proto,
		"request_method":  r.Method,
		"request_uri":     uri,
		"args":            r.URL.RawQuery,
		"server_protocol": r.Proto,
	}
	if r.URL.RawQuery != "" {
		vars["is_args"] = "?"
	}
	writeJSON(w, status, map[string]any{
		"headers":   headers,
		"uri_args":  args,
		"post_data": post,
		"vars":      vars,
		"url":       scheme + "://" + r.Host + uri,
	})
}

func oneOrMany(vs []string) any {
	if len(vs) == 1 {
		return vs[0]
	}
	return vs
}
