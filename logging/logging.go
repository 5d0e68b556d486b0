// Package logging is where luahost's logs go, as Kong configures them:
// the error log (proxy_error_log, at log_level, through log/slog, with the
// request id on every line a request causes) and the access logs
// (proxy_access_log in Kong's kong_log_format, admin_access_log in nginx's
// combined format), each "off", "-" (the standard stream) or a path
// (relative paths under prefix, as Kong's).
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Open resolves a log property: "off" gives a nil writer; "-",
// "/dev/stdout" and "/dev/stderr" the given standard stream (std) or
// os.Stdout/os.Stderr; any other value a file opened for appending
// (created with its directory; relative to prefix). The closer is nil
// when there is nothing to close.
func Open(value, prefix string, std io.Writer) (io.Writer, io.Closer, error) {
	v := strings.TrimSpace(value)
	switch v {
	case "", "off":
		return nil, nil, nil
	case "-":
		return std, nil, nil
	case "/dev/stdout":
		return os.Stdout, nil, nil
	case "/dev/stderr":
		return os.Stderr, nil, nil
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(prefix, v)
	}
	if err := os.MkdirAll(filepath.Dir(v), 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(v, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return f, f, nil
}

type requestIDKey struct{}

// WithRequestID returns a context whose log lines carry id (Kong's
// $kong_request_id, lua_kong_error_log_request_id).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id set by WithRequestID, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ContextHandler adds request_id to every record logged with a context
// that carries one (logger.InfoContext(ctx, ...)).
type ContextHandler struct{ slog.Handler }

// Handle adds the request id, then passes the record on.
func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id := RequestID(ctx); id != "" {
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper.
func (h ContextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(as)}
}

// WithGroup keeps the wrapper.
func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name)}
}

// NewErrorLog is the error log's handler: text lines at level on w, with
// request ids.
func NewErrorLog(w io.Writer, level slog.Leveler) slog.Handler {
	return ContextHandler{slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})}
}

// Entry is one access-log line's data.
type Entry struct {
	RemoteAddr string // "ip" or "ip:port"
	RemoteUser string
	Time       time.Time
	Method     string
	URI        string // as requested, with the query
	Proto      string // "HTTP/1.1"
	Status     int
	BodyBytes  int64
	Referer    string
	UserAgent  string
	RequestID  string
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// nginx escapes the variables it writes into a log line: '"', '\\' and
// bytes outside printable ASCII as \xHH.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c < 0x20 || c > 0x7e {
			fmt.Fprintf(&b, `\x%02X`, c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Combined is nginx's combined format (Kong's admin_access_log).
func Combined(e Entry) string {
	host := e.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	return fmt.Sprintf(`%s - %s [%s] "%s" %d %d "%s" "%s"`,
		dash(host), dash(escape(e.RemoteUser)), t.Format("02/Jan/2006:15:04:05 -0700"),
		escape(e.Method+" "+e.URI+" "+e.Proto), e.Status, e.BodyBytes,
		dash(escape(e.Referer)), dash(escape(e.UserAgent)))
}

// KongFormat is Kong's kong_log_format (proxy_access_log): combined, then
// kong_request_id.
func KongFormat(e Entry) string {
	return Combined(e) + ` kong_request_id: "` + escape(e.RequestID) + `"`
}

// AccessLog writes one line per request; a nil *AccessLog writes nothing
// (the log is off).
type AccessLog struct {
	mu     sync.Mutex
	w      io.Writer
	format func(Entry) string
}

// NewAccessLog returns an access log on w (nil w: nil, the log is off)
// with format (KongFormat for the proxy, Combined for the Admin API).
func NewAccessLog(w io.Writer, format func(Entry) string) *AccessLog {
	if w == nil {
		return nil
	}
	return &AccessLog{w: w, format: format}
}

// Log writes e's line.
func (a *AccessLog) Log(e Entry) {
	if a == nil {
		return
	}
	line := a.format(e) + "\n"
	a.mu.Lock()
	_, _ = io.WriteString(a.w, line)
	a.mu.Unlock()
}

// Middleware logs every request next serves (the Admin API's
// admin_access_log); on a nil *AccessLog it returns next.
func (a *AccessLog) Middleware(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rw, r)
		user, _, _ := r.BasicAuth()
		a.Log(Entry{RemoteAddr: r.RemoteAddr, RemoteUser: user, Time: start, Method: r.Method,
			URI: r.RequestURI, Proto: r.Proto, Status: rw.status, BodyBytes: rw.n,
			Referer: r.Referer(), UserAgent: r.UserAgent(), RequestID: RequestID(r.Context())})
	})
}

type recorder struct {
	http.ResponseWriter
	status      int
	n           int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}

// Flush passes through to the underlying writer when it can flush.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
