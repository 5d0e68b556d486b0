// Package logging is where luahost's logs go, as Kong configures them:
// the error log (proxy_error_log, at log_level, through log/slog, in
// nginx's line format, with the request id on every line a request causes)
// and the access logs (proxy_access_log in Kong's kong_log_format,
// admin_access_log in nginx's combined format), each "off", "-" (the
// standard stream) or a path (relative paths under prefix, as Kong's).
package logging

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
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

// NewErrorLog is the error log's handler: nginx's error-log lines (see
// ErrorLine) at level on w, with request ids.
func NewErrorLog(w io.Writer, level slog.Leveler) slog.Handler {
	return ContextHandler{NewErrorLine(w, level)}
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

// nginx escapes the variables it writes into a log line: '"', '\\' and
// bytes outside printable ASCII as \xHH.
func appendEscaped(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c < 0x20 || c > 0x7e {
			dst = append(dst, '\\', 'x', hex[c>>4], hex[c&0xf])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// appendVar is a variable as nginx logs it: "-" when empty.
func appendVar(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '-')
	}
	return appendEscaped(dst, s)
}

// hostOf is the address of "ip", "ip:port" or "[ip]:port" (what
// net.SplitHostPort gives, without its error keeping s).
func hostOf(s string) string {
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			return s[1:i]
		}
		return s
	}
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.LastIndexByte(s, ':') == i {
		return s[:i]
	}
	return s
}

// Format is an access-log line format.
type Format int

const (
	// FormatCombined is nginx's combined format (Kong's admin_access_log).
	FormatCombined Format = iota
	// FormatKong is Kong's kong_log_format (proxy_access_log): combined,
	// then kong_request_id.
	FormatKong
)

// Append appends e's line (without the newline) to dst.
func (f Format) Append(dst []byte, e *Entry) []byte {
	host := hostOf(e.RemoteAddr)
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	dst = appendVar(dst, host)
	dst = append(dst, " - "...)
	dst = appendVar(dst, e.RemoteUser)
	dst = append(dst, " ["...)
	dst = t.AppendFormat(dst, "02/Jan/2006:15:04:05 -0700")
	dst = append(dst, `] "`...)
	dst = appendEscaped(dst, e.Method)
	dst = append(dst, ' ')
	dst = appendEscaped(dst, e.URI)
	dst = append(dst, ' ')
	dst = appendEscaped(dst, e.Proto)
	dst = append(dst, `" `...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, e.BodyBytes, 10)
	dst = append(dst, ` "`...)
	dst = appendVar(dst, e.Referer)
	dst = append(dst, `" "`...)
	dst = appendVar(dst, e.UserAgent)
	dst = append(dst, '"')
	if f == FormatKong {
		dst = append(dst, ` kong_request_id: "`...)
		dst = appendEscaped(dst, e.RequestID)
		dst = append(dst, '"')
	}
	return dst
}

// Combined is e's line in nginx's combined format.
func Combined(e Entry) string { return string(FormatCombined.Append(nil, &e)) }

// KongFormat is e's line in Kong's kong_log_format.
func KongFormat(e Entry) string { return string(FormatKong.Append(nil, &e)) }

// AccessLog writes one line per request; a nil *AccessLog writes nothing
// (the log is off). A line is formatted in a pooled buffer and written
// with one Write; a file (*os.File, which serialises its writes, opened
// O_APPEND) is written without a lock of ours.
type AccessLog struct {
	mu     sync.Mutex // writes to w, unless it is a file
	w      io.Writer
	file   *os.File
	format Format
	bufs   sync.Pool
}

// NewAccessLog returns an access log on w (nil w: nil, the log is off)
// in format (FormatKong for the proxy, FormatCombined for the Admin API).
func NewAccessLog(w io.Writer, format Format) *AccessLog {
	if w == nil {
		return nil
	}
	a := &AccessLog{w: w, format: format}
	a.file, _ = w.(*os.File)
	a.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	return a
}

// Log writes e's line.
func (a *AccessLog) Log(e *Entry) {
	if a == nil {
		return
	}
	bp := a.bufs.Get().(*[]byte)
	line := append(a.format.Append((*bp)[:0], e), '\n')
	if a.file != nil {
		_, _ = a.file.Write(line)
	} else {
		a.mu.Lock()
		_, _ = a.w.Write(line)
		a.mu.Unlock()
	}
	if cap(line) <= 64<<10 {
		*bp = line
		a.bufs.Put(bp)
	}
}

// Middleware logs every request a net/http handler serves; on a nil
// *AccessLog it returns next. (The Admin API is fasthttp: the node logs
// it through admin.Options.Log.)
func (a *AccessLog) Middleware(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rw, r)
		user, _, _ := r.BasicAuth()
		a.Log(&Entry{RemoteAddr: r.RemoteAddr, RemoteUser: user, Time: start, Method: r.Method,
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
