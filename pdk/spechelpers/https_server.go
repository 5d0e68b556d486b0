package spechelpers

// The server behind spec.helpers.https_server (host/lua/spec/fixtures/
// https_server.lua), the upstream Kong's balancer and rate-limiting specs
// proxy to. Kong's (spec/fixtures/https_server.lua) writes an nginx.conf
// from spec/fixtures/mock_webserver_tpl.lua and runs an nginx; this one is
// a Go HTTP server with the same locations and state:
//
//   - per host (the Host header without user info and port), a healthy
//     flag and a timeout flag, set by GET /healthy, /unhealthy and
//     /timeout; the hosts given to new start healthy, any other host
//     starts unhealthy (nginx's shared dict has no entry for it);
//   - GET / (any path no other location takes) and /status answer 200
//     when the host is healthy, 500 otherwise, after 4 s when the host
//     times out, and count each answer per location ("slash", "status")
//     and host, which shutdown returns (Kong's counts the "[COUNT]" lines
//     of nginx's error.log);
//   - those two record each request (time, method, headers) under the
//     key query argument ("default" without one), unless do_not_log is
//     given; GET /log answers the records of a key as a JSON array and
//     /clear_log forgets them all;
//   - /always_200 answers "ok".
//
// protocol https serves TLS 1.2 with the test certificate, HTTP/2 offered
// by ALPN, as Kong's server block; check_hostname answers 400 to a Host
// not among the hosts, as nginx's default server there.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HTTPSServerOptions are https_server.new's arguments.
type HTTPSServerOptions struct {
	Port          int
	Hosts         []string // server names; their entries start healthy
	Protocol      string   // "http" (default) or "https"
	CheckHostname bool     // 400 to a Host not in Hosts
	Delay         time.Duration
	DisableIPv6   bool
}

// httpsServerTimeout is how long a host set to time out keeps a request
// before answering (Kong's template sleeps 4 s).
const httpsServerTimeout = 4 * time.Second

// HTTPSCount is one host's answers, or all hosts' (HTTPSServer.Counts).
type HTTPSCount struct {
	OK, Fail             int // answers of "/": 200, other
	StatusOK, StatusFail int // answers of /status
}

// HTTPSServer is a running https_server.
type HTTPSServer struct {
	opts    HTTPSServerOptions
	ln      net.Listener
	srv     *http.Server
	stop    chan struct{} // closed by Shutdown: ends the timeouts' waits
	mu      sync.Mutex
	healthy map[string]bool
	timeout map[string]bool
	logs    map[string][]map[string]any
	counts  map[string]*HTTPSCount // by host
}

// StartHTTPSServer listens on o.Port (0: any free port) and serves.
func StartHTTPSServer(o HTTPSServerOptions) (*HTTPSServer, error) {
	switch o.Protocol {
	case "":
		o.Protocol = "http"
	case "http", "https":
	default:
		return nil, fmt.Errorf("https_server: protocol %q: want http or https", o.Protocol)
	}
	s := &HTTPSServer{opts: o, stop: make(chan struct{}), healthy: map[string]bool{}, timeout: map[string]bool{},
		logs: map[string][]map[string]any{}, counts: map[string]*HTTPSCount{}}
	for _, h := range o.Hosts {
		s.healthy[h] = true
	}
	addr := net.JoinHostPort("", strconv.Itoa(o.Port))
	if o.DisableIPv6 {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("https_server: %w", err)
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve)}
	if o.Protocol == "https" {
		cert, err := testCertificate()
		if err != nil {
			ln.Close()
			return nil, err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
			NextProtos: []string{"h2", "http/1.1"}}
		s.srv.TLSConfig = cfg
		ln = tls.NewListener(ln, cfg)
	}
	s.ln = ln
	go s.srv.Serve(ln)
	return s, nil
}

// Port is the port the server listens on.
func (s *HTTPSServer) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Shutdown stops the server (requests in flight are cut, as nginx's
// TERM) and returns the answers counted, by host.
func (s *HTTPSServer) Shutdown() map[string]HTTPSCount {
	select {
	case <-s.stop:
	default:
		close(s.stop)
		s.srv.Close()
	}
	return s.Counts()
}

// Counts are the answers counted so far, by host.
func (s *HTTPSServer) Counts() map[string]HTTPSCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]HTTPSCount, len(s.counts))
	for h, c := range s.counts {
		out[h] = *c
	}
	return out
}

// ClearLogs forgets every key's records (GET /clear_log).
func (s *HTTPSServer) ClearLogs() {
	s.mu.Lock()
	s.logs = map[string][]map[string]any{}
	s.mu.Unlock()
}

// Logs is the JSON array of key's records (GET /log?key=...).
func (s *HTTPSServer) Logs(key string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logsJSON(key)
}

func (s *HTTPSServer) logsJSON(key string) []byte {
	logs := s.logs[key]
	if logs == nil {
		return []byte("[]")
	}
	b, err := json.Marshal(logs)
	if err != nil {
		return []byte("[]")
	}
	return b
}

// serverHost is the Host header without user info and port, as the
// template's regex takes it; the IPv6 loopback in full is "[::1]".
func serverHost(r *http.Request) string {
	h := r.Host
	if h == "" {
		return "localhost"
	}
	if i := strings.LastIndexByte(h, '@'); i >= 0 {
		h = h[i+1:]
	}
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i >= 0 {
			h = h[:i+1]
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	if h == "[0000:0000:0000:0000:0000:0000:0000:0001]" {
		h = "[::1]"
	}
	return h
}

// record keeps r under its key query argument unless do_not_log is given;
// it returns the key's records. Call with s.mu held.
func (s *HTTPSServer) record(r *http.Request) []byte {
	q := r.URL.Query()
	key := q.Get("key")
	if key == "" {
		key = "default"
	}
	if !q.Has("do_not_log") {
		headers := map[string]any{}
		for k, vs := range r.Header {
			k = strings.ToLower(k)
			if len(vs) == 1 {
				headers[k] = vs[0]
			} else {
				headers[k] = vs
			}
		}
		if r.Host != "" {
			headers["host"] = r.Host
		}
		s.logs[key] = append(s.logs[key], map[string]any{
			"time":    float64(time.Now().UnixMilli()) / 1e3,
			"method":  r.Method,
			"headers": headers,
		})
	}
	return s.logsJSON(key)
}

// serverName is ngx.var.server_name: the first host with check_hostname
// (server_name is set), empty otherwise.
func (s *HTTPSServer) serverName() string {
	if s.opts.CheckHostname && len(s.opts.Hosts) > 0 {
		return s.opts.Hosts[0]
	}
	return ""
}

func (s *HTTPSServer) knownHost(h string) bool {
	for _, n := range s.opts.Hosts {
		if strings.EqualFold(n, h) {
			return true
		}
	}
	return false
}

// wait sleeps d, or less when the server stops or the client goes.
func (s *HTTPSServer) wait(r *http.Request, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.stop:
		return errors.New("stopped")
	case <-r.Context().Done():
		return context.Cause(r.Context())
	}
}

func (s *HTTPSServer) serve(w http.ResponseWriter, r *http.Request) {
	host := serverHost(r)
	if s.opts.CheckHostname && !s.knownHost(host) {
		errorPage(w, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	say := func(format string, args ...any) {
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, format+"\n", args...)
	}
	switch r.URL.Path {
	case "/clear_log":
		s.ClearLogs()
		say("cleared")
	case "/log":
		s.mu.Lock()
		logs := s.record(r)
		s.mu.Unlock()
		say("%s", logs)
	case "/always_200":
		say("ok")
	case "/healthy":
		s.mu.Lock()
		s.healthy[host], s.timeout[host] = true, false
		s.mu.Unlock()
		say("server %s is now healthy", s.serverName())
	case "/unhealthy":
		s.mu.Lock()
		s.healthy[host] = false
		s.mu.Unlock()
		say("server %s is now unhealthy", s.serverName())
	case "/timeout":
		s.mu.Lock()
		s.timeout[host] = true
		s.mu.Unlock()
		say("server %s is timeouting now", s.serverName())
	default:
		s.answer(w, r, host, r.URL.Path == "/status")
	}
}

// answer is the "/" and "/status" locations: record the request, answer
// by the host's health, count the answer.
func (s *HTTPSServer) answer(w http.ResponseWriter, r *http.Request, host string, status bool) {
	s.mu.Lock()
	s.record(r)
	code := http.StatusInternalServerError
	if s.healthy[host] {
		code = http.StatusOK
	}
	timeout := s.timeout[host]
	c := s.counts[host]
	if c == nil {
		c = &HTTPSCount{}
		s.counts[host] = c
	}
	// a timing-out host counts as a failure (Kong's template logs 599)
	ok := code == http.StatusOK && !timeout
	switch {
	case status && ok:
		c.StatusOK++
	case status:
		c.StatusFail++
	case ok:
		c.OK++
	default:
		c.Fail++
	}
	s.mu.Unlock()
	if timeout {
		if s.wait(r, httpsServerTimeout) != nil {
			return
		}
	}
	if !status && s.wait(r, s.opts.Delay) != nil {
		return
	}
	if code == http.StatusOK {
		w.WriteHeader(code)
		return
	}
	errorPage(w, code)
}

// errorPage answers code with a page shaped as nginx's.
func errorPage(w http.ResponseWriter, code int) {
	text := strconv.Itoa(code) + " " + http.StatusText(code)
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", text, text)
}
