package logging_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/logging"
)

// Every line logged with a request's context carries its id; lines below
// log_level are dropped.
func TestErrorLogRequestID(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(logging.NewErrorLog(&b, slog.LevelInfo)).With("plugin", "p")
	ctx := logging.WithRequestID(context.Background(), "abc123")
	log.InfoContext(ctx, "in a request")
	log.Info("outside")
	log.DebugContext(ctx, "hidden")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q", b.String())
	}
	if !strings.HasSuffix(lines[0], `in a request, plugin: p, request_id: "abc123"`) {
		t.Errorf("line 1: %s", lines[0])
	}
	if strings.Contains(lines[1], "request_id") {
		t.Errorf("line 2: %s", lines[1])
	}
}

// The error log's lines are nginx's, as Kong's error.log: date, [level]
// (the nginx name pdk's ngx.log passes, else the slog level's), pid, then
// the message as it was logged, quotes and newlines unescaped, so that a
// grep of the log (or a spec's assert.logfile().has.line) finds the text
// the plugin logged.
func TestErrorLogIsNginxFormat(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(logging.NewErrorLog(&b, slog.LevelDebug))
	when := time.Date(2024, 3, 1, 10, 2, 3, 0, time.Local)
	msg := `[request-transformer] failed to render the template $(foo()), error:[string "TMP"]:1: attempt to call global 'foo' (a nil value)` +
		"\nstack traceback:\n\t[string \"TMP\"]:1: in main chunk"
	r := slog.NewRecord(when, slog.LevelError, msg, 0)
	r.AddAttrs(slog.String("level_name", "error"))
	if err := log.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	r = slog.NewRecord(when, slog.LevelInfo+2, "[lua] cache_warmup.lua:23: notice", 0)
	if err := log.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	log.WithGroup("g").Warn("grouped", "k", 1)
	pid := strconv.Itoa(os.Getpid())
	want := "2024/03/01 10:02:03 [error] " + pid + "#0: " + msg + "\n" +
		"2024/03/01 10:02:03 [notice] " + pid + "#0: [lua] cache_warmup.lua:23: notice\n"
	got := b.String()
	if !strings.HasPrefix(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if rest := got[len(want):]; !strings.Contains(rest, " [warn] "+pid+"#0: grouped, g.k: 1\n") {
		t.Errorf("grouped line: %q", rest)
	}
}

// Kong's access-log formats, nginx's escaping.
func TestAccessFormats(t *testing.T) {
	e := logging.Entry{RemoteAddr: "10.0.0.1:5555", Time: time.Date(2024, 3, 1, 10, 2, 3, 0, time.UTC),
		Method: "GET", URI: "/a?b=\"c\"", Proto: "HTTP/1.1", Status: 200, BodyBytes: 12,
		UserAgent: "curl/8", RequestID: "rid"}
	want := `10.0.0.1 - - [01/Mar/2024:10:02:03 +0000] "GET /a?b=\x22c\x22 HTTP/1.1" 200 12 "-" "curl/8"`
	if got := logging.Combined(e); got != want {
		t.Errorf("combined\n got %s\nwant %s", got, want)
	}
	if got := logging.KongFormat(e); got != want+` kong_request_id: "rid"` {
		t.Errorf("kong: %s", got)
	}
}

// "off" is no log, "-" the given stream, a relative path lands under the
// prefix; the middleware logs the Admin API's requests.
func TestOpenAndMiddleware(t *testing.T) {
	if w, c, err := logging.Open("off", "", nil); w != nil || c != nil || err != nil {
		t.Errorf("off: %v %v %v", w, c, err)
	}
	var std bytes.Buffer
	if w, _, _ := logging.Open("-", "", &std); w != &std {
		t.Errorf("-: %v", w)
	}
	prefix := t.TempDir()
	w, c, err := logging.Open("logs/admin_access.log", prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	al := logging.NewAccessLog(w, logging.FormatCombined)
	h := al.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		_, _ = w.Write([]byte("hello"))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/services", nil))
	c.Close()
	b, err := os.ReadFile(filepath.Join(prefix, "logs", "admin_access.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"POST /services HTTP/1.1" 201 5 "-" "-"`) {
		t.Errorf("log: %s", b)
	}
	var none *logging.AccessLog
	none.Log(&logging.Entry{})
}

// Control bytes and bytes beyond ASCII are written as nginx writes them;
// empty variables are "-".
func TestAccessEscapes(t *testing.T) {
	e := logging.Entry{RemoteAddr: "::1", Time: time.Date(2024, 3, 1, 10, 2, 3, 0, time.FixedZone("", 3600)),
		Method: "GET", URI: "/é\n\\", Proto: "HTTP/1.0", Status: 404, RemoteUser: "bob", Referer: "r\"", RequestID: "a\tb"}
	want := `::1 - bob [01/Mar/2024:10:02:03 +0100] "GET /\xC3\xA9\x0A\x5C HTTP/1.0" 404 0 "r\x22" "-" kong_request_id: "a\x09b"`
	if got := logging.KongFormat(e); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

// Lines written from many goroutines to a file stay whole, one per Log.
func TestAccessLogConcurrentFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	w, c, err := logging.Open(path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	al := logging.NewAccessLog(w, logging.FormatKong)
	const goroutines, each = 4, 200
	done := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < each; i++ {
				al.Log(&logging.Entry{Method: "GET", URI: "/" + strings.Repeat("x", 300), Proto: "HTTP/1.1", Status: 200, RequestID: "id"})
			}
		}()
	}
	for g := 0; g < goroutines; g++ {
		<-done
	}
	c.Close()
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != goroutines*each {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, `200 0 "-" "-" kong_request_id: "id"`) || !strings.HasPrefix(l, "- - - [") {
			t.Fatalf("line %q", l)
		}
	}
}

// Logging a line allocates nothing once the buffer pool is warm.
func TestAccessLogAllocs(t *testing.T) {
	al := logging.NewAccessLog(io.Discard, logging.FormatKong)
	e := &logging.Entry{RemoteAddr: "10.0.0.1:5555", Time: time.Now(), Method: "GET", URI: "/a", Proto: "HTTP/1.1",
		Status: 200, BodyBytes: 12, UserAgent: "curl/8", RequestID: "rid"}
	if n := testing.AllocsPerRun(100, func() { al.Log(e) }); n != 0 {
		t.Errorf("%v allocations per line", n)
	}
}

func BenchmarkAccessLog(b *testing.B) {
	al := logging.NewAccessLog(io.Discard, logging.FormatKong)
	e := &logging.Entry{RemoteAddr: "10.0.0.1:5555", Time: time.Now(), Method: "GET", URI: "/a?b=c", Proto: "HTTP/1.1",
		Status: 200, BodyBytes: 12, UserAgent: "curl/8.4.0", RequestID: "0123456789abcdef0123456789abcdef"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			al.Log(e)
		}
	})
}
