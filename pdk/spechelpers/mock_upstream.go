package spechelpers

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
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
	// handler serves both sides, so they share its log store, logs
	handler http.Handler
	logs    *logStore
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
	logs := newLogStore()
	h := mockHandler(logs)
	m := &MockUpstream{ln: ln, srv: &http.Server{Handler: h}, handler: h, logs: logs}
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
	m.sslSrv = &http.Server{Handler: m.handler,
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

// ResetLogs empties every log of /post_log: Kong keeps them in a shared
// dict of the Kong node serving the mock upstream, so a node started
// afresh begins with none.
func (m *MockUpstream) ResetLogs() {
	m.logs.mu.Lock()
	m.logs.logs = map[string]*mockLog{}
	m.logs.mu.Unlock()
}

// Close stops the mock upstream, both sides.
func (m *MockUpstream) Close() error {
	if m.sslSrv != nil {
		m.sslSrv.Close()
	}
	return m.srv.Close()
}

// MockHandler answers Kong's mock_upstream paths as its nginx server
// block routes them: / (with valid_routes), /request*, /anything*, /get*,
// /post*, /status/{3 digits}, /response-headers, /cache/{digits},
// /delay/{1 to 3 digits}, /basic-auth/{user}/{password}, /xml,
// /timestamp, /hop-by-hop, /stream/{n}, /echo_sni and the log endpoints
// /post_log/{name}, /post_auth_log/{name}/{user}/{password},
// /read_log/{name}, /count_log/{name}, /reset_log/{name} (name as
// [a-z0-9_]+); any other path is the echo with status 404. A wrong method
// is nginx's 405 text. Each handler keeps its own log store, which every
// listener serving it shares.
func MockHandler() http.Handler {
	return mockHandler(newLogStore())
}

func newLogStore() *logStore { return &logStore{logs: map[string]*mockLog{}} }

// mockHandler is MockHandler with logs as its log store.
func mockHandler(logs *logStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		// nginx tries the exact locations first, then the regular
		// expressions in order, then the longest prefix (/get, /post, /)
		switch {
		case p == "/":
			echo(w, r, http.StatusOK, map[string]any{"valid_routes": validRoutes})
		case p == "/timestamp":
			// Server-Time as ngx.now(): seconds, milliseconds as decimals
			now := float64(time.Now().UnixMilli()) / 1000
			w.Header().Set("Server-Time", strconv.FormatFloat(now, 'g', 14, 64))
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
		case p == "/hop-by-hop":
			hopByHop(w)
		case p == "/echo_sni":
			// nginx's return: $ssl_server_name, empty without one
			sni := ""
			if r.TLS != nil {
				sni = r.TLS.ServerName
			}
			text := "SNI=" + sni + "\n"
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", strconv.Itoa(len(text)))
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, text)
		case strings.HasPrefix(p, "/request") || strings.HasPrefix(p, "/anything"):
			echo(w, r, http.StatusOK, nil)
		case statusPath.MatchString(p):
			code, _ := strconv.Atoi(statusPath.FindStringSubmatch(p)[1])
			echo(w, r, code, map[string]any{"code": code})
		case cachePath.MatchString(p):
			w.Header().Set("Cache-Control", "public, max-age="+cachePath.FindStringSubmatch(p)[1])
			echo(w, r, http.StatusOK, nil)
		case delayPath.MatchString(p):
			secs, _ := strconv.Atoi(delayPath.FindStringSubmatch(p)[1])
			// the delay is what a spec of upstream timeouts asks for; the
			// client going away ends it
			select {
			case <-time.After(time.Duration(secs) * time.Second):
			case <-r.Context().Done():
				return
			}
			echo(w, r, http.StatusOK, map[string]any{"delay": secs})
		case basicAuthPath.MatchString(p):
			m := basicAuthPath.FindStringSubmatch(p)
			if !basicAuthOK(w, r, m[1], m[2]) {
				return
			}
			echo(w, r, http.StatusOK, map[string]any{"authenticated": true, "user": m[1]})
		case streamPath.MatchString(p):
			n, err := strconv.Atoi(streamPath.FindStringSubmatch(p)[1])
			if err != nil {
				echo(w, r, http.StatusNotFound, nil)
				return
			}
			b, _ := json.Marshal(echoed(r, nil))
			w.Header().Set("X-Powered-By", "mock_upstream")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			for i := 0; i < n; i++ {
				w.Write(append(b, '\n'))
			}
		case postLogPath.MatchString(p):
			logs.store(w, r, postLogPath.FindStringSubmatch(p)[1])
		case postAuthLogPath.MatchString(p):
			m := postAuthLogPath.FindStringSubmatch(p)
			if !basicAuthOK(w, r, m[2], m[3]) {
				return
			}
			logs.store(w, r, m[1])
		case readLogPath.MatchString(p):
			logs.read(w, readLogPath.FindStringSubmatch(p)[1])
		case countLogPath.MatchString(p):
			logs.count(w, countLogPath.FindStringSubmatch(p)[1])
		case resetLogPath.MatchString(p):
			logs.reset(resetLogPath.FindStringSubmatch(p)[1])
			emptyOK(w)
		case strings.HasPrefix(p, "/get"):
			if r.Method != http.MethodGet {
				methodNotAllowed(w)
				return
			}
			echo(w, r, http.StatusOK, nil)
		case strings.HasPrefix(p, "/post"):
			if r.Method != http.MethodPost {
				methodNotAllowed(w)
				return
			}
			echo(w, r, http.StatusOK, nil)
		case p == "/xml":
			writeText(w, http.StatusOK, "application/xml", "\n                  <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+
				"                    <note>\n                      <body>Kong, Monolith destroyer.</body>\n"+
				"                    </note>\n                ")
		case p == "/response-headers":
			if r.Method != http.MethodGet {
				methodNotAllowed(w)
				return
			}
			// the arguments are set after the echo's own headers, as
			// Kong's send_text_response sets them: Content-Type=... wins
			set := http.Header{}
			for k, v := range uriArgs(r.URL.RawQuery) {
				switch v := v.(type) {
				case []any:
					parts := make([]string, len(v))
					for i, e := range v {
						parts[i] = fmt.Sprint(e)
					}
					set.Set(k, strings.Join(parts, ", "))
				case bool:
					set.Set(k, "true")
				default:
					set.Set(k, fmt.Sprint(v))
				}
			}
			echo(overrideHeaders{w, set}, r, http.StatusOK, nil)
		default:
			echo(w, r, http.StatusNotFound, nil)
		}
	})
}

// basicAuthOK checks the request's basic credentials (Proxy-Authorization
// first) as the mock upstream's access filter, answering nginx's 401 page
// when they are not user and pass
func basicAuthOK(w http.ResponseWriter, r *http.Request, user, pass string) bool {
	u, p, ok := proxyBasicAuth(r)
	if !ok {
		u, p, ok = r.BasicAuth()
	}
	if ok && u == user && p == pass {
		return true
	}
	w.Header().Set("WWW-Authenticate", "mock_upstream")
	w.Header().Set("X-Powered-By", "mock_upstream")
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, nginxPage(http.StatusUnauthorized, "Authorization Required"))
	return false
}

// hopByHop answers /hop-by-hop: hop-by-hop headers a proxy must not pass
// on, and a body without Content-Length (chunked)
func hopByHop(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Keep-Alive", "timeout=5, max=1000")
	h.Set("Proxy", "Remove-Me")
	h.Set("Proxy-Connection", "close")
	h.Set("Proxy-Authenticate", "Basic")
	h.Set("Proxy-Authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l")
	h.Set("TE", "trailers, deflate;q=0.5")
	h.Set("Trailer", "Expires")
	h.Set("Upgrade", "example/1, foo/2")
	h.Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "hello\r\n\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n")
	if f, ok := w.(http.Flusher); ok {
		// flushed before the handler returns: chunked, no Content-Length
		f.Flush()
	}
}

// emptyOK is the answer of a content handler that writes nothing
func emptyOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// internalError is nginx's answer to a Lua error in the content handler
func internalError(w http.ResponseWriter) {
	page := nginxPage(http.StatusInternalServerError, "Internal Server Error")
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, page)
}

var (
	statusPath    = regexp.MustCompile(`^/status/(\d{3})$`)
	cachePath     = regexp.MustCompile(`^/cache/(\d+)$`)
	delayPath     = regexp.MustCompile(`^/delay/(\d{1,3})$`)
	basicAuthPath = regexp.MustCompile(`^/basic-auth/([a-zA-Z0-9_]+)/(.+)$`)
	streamPath    = regexp.MustCompile(`^/stream/(\d+)$`)
	// the log endpoints' names, as Kong's locations restrict them
	postLogPath     = regexp.MustCompile(`^/post_log/([a-z0-9_]+)$`)
	postAuthLogPath = regexp.MustCompile(`^/post_auth_log/([a-z0-9_]+)/([a-zA-Z0-9_]+)/(.+)$`)
	readLogPath     = regexp.MustCompile(`^/read_log/([a-z0-9_]+)$`)
	countLogPath    = regexp.MustCompile(`^/count_log/([a-z0-9_]+)$`)
	resetLogPath    = regexp.MustCompile(`^/reset_log/([a-z0-9_]+)$`)
)

// the routes the mock upstream's / lists, as Kong's does
var validRoutes = map[string]string{
	"/ws":                         "Websocket echo server",
	"/get":                        "Accepts a GET request and returns it in JSON format",
	"/xml":                        "Returns a simple XML document",
	"/post":                       "Accepts a POST request and returns it in JSON format",
	"/response-headers?:key=:val": "Returns given response headers",
	"/cache/:n":                   "Sets a Cache-Control header for n seconds",
	"/anything":                   "Accepts any request and returns it in JSON format",
	"/request":                    "Alias to /anything",
	"/delay/:duration":            "Delay the response for <duration> seconds",
	"/basic-auth/:user/:pass":     "Performs HTTP basic authentication with the given credentials",
	"/status/:code":               "Returns a response with the specified <status code>",
	"/stream/:num":                "Stream <num> chunks of JSON data via chunked Transfer Encoding",
	"/timestamp":                  "Returns server timestamp in header",
}

// proxyBasicAuth reads Proxy-Authorization's basic credentials, which the
// mock upstream checks before Authorization
func proxyBasicAuth(r *http.Request) (user, pass string, ok bool) {
	h := r.Header.Get("Proxy-Authorization")
	if h == "" {
		return "", "", false
	}
	req := &http.Request{Header: http.Header{"Authorization": {h}}}
	return req.BasicAuth()
}

// nginxPage is the page nginx writes for a status it ends a request with
func nginxPage(code int, reason string) string {
	head := strconv.Itoa(code) + " " + reason
	return "<html>\r\n<head><title>" + head + "</title></head>\r\n<body>\r\n<center><h1>" + head +
		"</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
}

func methodNotAllowed(w http.ResponseWriter) {
	writeText(w, http.StatusMethodNotAllowed, "text/plain", "Method not allowed for the requested URL")
}

// writeText answers as the mock upstream's send_text_response: its
// X-Powered-By and Server headers, a Content-Length, the text and a
// newline (ngx.say), no body for HEAD
// overrideHeaders sets its headers over those written before
// WriteHeader (Content-Length excepted: the body's framing stays true).
type overrideHeaders struct {
	http.ResponseWriter
	set http.Header
}

func (o overrideHeaders) WriteHeader(status int) {
	h := o.ResponseWriter.Header()
	for k, vs := range o.set {
		if http.CanonicalHeaderKey(k) != "Content-Length" {
			h[k] = vs
		}
	}
	o.ResponseWriter.WriteHeader(status)
}

func writeText(w http.ResponseWriter, status int, contentType, text string) {
	h := w.Header()
	h.Set("X-Powered-By", "mock_upstream")
	h.Set("Server", "mock-upstream/1.0.0")
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(text)+1))
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}

// uriArgs reads a query string as ngx.req.get_uri_args: a key without
// "=" is true, a repeated key an array of its values
func uriArgs(raw string) map[string]any {
	out := map[string]any{}
	for _, part := range strings.FieldsFunc(raw, func(c rune) bool { return c == '&' }) {
		k, v, hasValue := strings.Cut(part, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k == "" {
			continue
		}
		var val any = true
		if hasValue {
			if u, err := url.QueryUnescape(v); err == nil {
				val = u
			} else {
				val = v
			}
		}
		switch prev := out[k].(type) {
		case nil:
			out[k] = val
		case []any:
			out[k] = append(prev, val)
		default:
			out[k] = []any{prev, val}
		}
	}
	return out
}

// multipartParams reads a multipart/form-data body as the mock upstream
// does: each part's name (from its Content-Disposition) to its value
func multipartParams(body, contentType string) (map[string]any, error) {
	_, boundary, ok := strings.Cut(contentType, "boundary=")
	if !ok || boundary == "" {
		return nil, fmt.Errorf("could not find boundary in content type %s", contentType)
	}
	params := map[string]any{}
	for _, part := range strings.Split(body, "--"+boundary) {
		part = strings.TrimSpace(part)
		if part == "" || part == "--" {
			continue
		}
		head, value, ok := strings.Cut(part, "\r\n\r\n")
		if !ok {
			return nil, fmt.Errorf("could not find part body")
		}
		m := partName.FindStringSubmatch(head)
		if !strings.HasPrefix(strings.ToLower(head), "content-disposition") || m == nil {
			return nil, fmt.Errorf("could not find part name in: %s", head)
		}
		params[m[1]] = value
	}
	return params, nil
}

var partName = regexp.MustCompile(`name="(.*?)"`)

// echo writes the request as Kong's mock upstream does
// (send_default_json_response): lower-case header names, a single value
// as a string and repeats as an array; uri_args as ngx.req.get_uri_args;
// post_data's text, kind ("form", "multipart-form", "json" or "unknown")
// and params (null when none); nginx's vars; url from $scheme, $host,
// $server_port and $request_uri; extra's fields merged in.
func echo(w http.ResponseWriter, r *http.Request, status int, extra map[string]any) {
	b, _ := json.Marshal(echoed(r, extra))
	text := string(b)
	if r.Method == http.MethodHead {
		text = ""
	}
	writeText(w, status, "application/json", text)
}

// reqHeaders is the request's headers as ngx.req.get_headers: lower-case
// names, a single value as a string and repeats as an array, Host and
// Transfer-Encoding (which net/http takes out of the map) included
func reqHeaders(r *http.Request) map[string]any {
	headers := map[string]any{"host": r.Host}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = oneOrMany(vs)
	}
	if len(r.TransferEncoding) > 0 {
		headers["transfer-encoding"] = strings.Join(r.TransferEncoding, ", ")
	}
	return headers
}

// echoed is the echo's JSON (get_default_json_response)
func echoed(r *http.Request, extra map[string]any) map[string]any {
	body, _ := io.ReadAll(r.Body)
	headers := reqHeaders(r)
	post := map[string]any{"text": string(body), "kind": "unknown", "params": nil}
	ct := r.Header.Get("Content-Type")
	var perr error
	switch {
	case ct == "":
	case strings.Contains(ct, "application/x-www-form-urlencoded"):
		post["kind"] = "form"
		post["params"] = uriArgs(string(body))
	case strings.Contains(ct, "multipart/form-data"):
		post["kind"] = "multipart-form"
		var params map[string]any
		if params, perr = multipartParams(string(body), ct); perr == nil {
			post["params"] = params
		}
	case strings.Contains(ct, "application/json"):
		post["kind"] = "json"
		var v any
		if perr = json.Unmarshal(body, &v); perr == nil {
			post["params"] = v
		}
	}
	if perr != nil {
		post["kind"] = post["kind"].(string) + " (error)"
		post["error"] = perr.Error()
	}
	host, hostPort, _ := net.SplitHostPort(r.Host)
	if host == "" {
		host = r.Host
	}
	host = strings.ToLower(host)
	// nginx's $server_port: the port the request came in on
	port := hostPort
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			port = p
		}
	}
	if host == "" {
		host = "mock_upstream"
	}
	if port == "" {
		port = "80"
		if r.TLS != nil {
			port = "443"
		}
	}
	raddr, rport, _ := net.SplitHostPort(r.RemoteAddr)
	addr, port2 := realIP(raddr, rport, r.Header.Get("X-Real-IP"))
	uri := r.URL.RequestURI()
	// nginx's $scheme and $https: "https" and "on" over TLS
	scheme, https, sni := "http", "", "no SNI"
	if r.TLS != nil {
		scheme, https = "https", "on"
		if r.TLS.ServerName != "" {
			sni = r.TLS.ServerName
		}
	}
	hostname, _ := os.Hostname()
	vars := map[string]any{
		"uri":                r.URL.Path,
		"host":               host,
		"hostname":           hostname,
		"https":              https,
		"scheme":             scheme,
		"is_args":            "",
		"server_addr":        "127.0.0.1",
		"server_port":        port,
		"server_name":        "mock_upstream",
		"server_protocol":    r.Proto,
		"remote_addr":        addr,
		"remote_port":        port2,
		"realip_remote_addr": raddr,
		"realip_remote_port": rport,
		"request":            r.Method + " " + uri + " " + r.Proto,
		"request_method":     r.Method,
		"request_uri":        uri,
		"ssl_server_name":    sni,
	}
	if r.URL.RawQuery != "" {
		vars["is_args"] = "?"
	}
	out := map[string]any{
		"headers":   headers,
		"uri_args":  uriArgs(r.URL.RawQuery),
		"post_data": post,
		"vars":      vars,
		"url":       scheme + "://" + host + ":" + port + uri,
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func oneOrMany(vs []string) any {
	if len(vs) == 1 {
		return vs[0]
	}
	return vs
}

// realIP is the client address and port as Kong's mock upstream sees
// them: its server trusts 127.0.0.1 (set_real_ip_from) with nginx's
// default real_ip_header, X-Real-IP, not recursive; so a request from
// 127.0.0.1 (Kong's proxy, which sets X-Real-IP to the client it saw) with
// an address in X-Real-IP ("ip" or "ip:port") is from that address, and
// its port is the one given, else none.
func realIP(raddr, rport, header string) (addr, port string) {
	if raddr != "127.0.0.1" || header == "" {
		return raddr, rport
	}
	header = strings.TrimSpace(header)
	if ip, err := netip.ParseAddr(header); err == nil {
		return ip.String(), ""
	}
	if ap, err := netip.ParseAddrPort(header); err == nil {
		return ap.Addr().String(), strconv.Itoa(int(ap.Port()))
	}
	return raddr, rport
}
