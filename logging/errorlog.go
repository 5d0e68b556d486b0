package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
)

// ErrorLine is a slog.Handler writing nginx's error-log lines, as Kong's
// error.log has them:
//
//	2024/03/01 10:02:03 [error] 4242#0: [kong] handler.lua:12 message, plugin: p, request_id: "abc"
//
// The message is written as it is (quotes, newlines and all), as nginx
// does: what a plugin logs is what a grep of the log, or a spec's
// assert.logfile().has.line, finds. The level is the record's
// "level_name" attribute (nginx's name, which pdk's ngx.log sets) or the
// name of its slog level; the other attributes follow as ", key: value".
type ErrorLine struct {
	out    *lineWriter
	level  slog.Leveler
	prefix string // the attributes of WithAttrs, formatted
	group  string // the WithGroup names, "a.b."
}

// lineWriter serialises the writes of an ErrorLine and the handlers
// derived from it.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

var pid = strconv.Itoa(os.Getpid())

// NewErrorLine returns an ErrorLine writing the records at level or above
// to w.
func NewErrorLine(w io.Writer, level slog.Leveler) *ErrorLine {
	if level == nil {
		level = slog.LevelInfo
	}
	return &ErrorLine{out: &lineWriter{w: w}, level: level}
}

// Enabled reports whether l is at the handler's level or above.
func (h *ErrorLine) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle writes r's line.
func (h *ErrorLine) Handle(_ context.Context, r slog.Record) error {
	name := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "level_name" {
			name = a.Value.String()
			return false
		}
		return true
	})
	if name == "" {
		name = nginxLevel(r.Level)
	}
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	// one buffer, kept by the writer: lines are formatted and written
	// under its lock
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	b := h.out.buf[:0]
	b = t.AppendFormat(b, "2006/01/02 15:04:05")
	b = append(b, " ["...)
	b = append(b, name...)
	b = append(b, "] "...)
	b = append(b, pid...)
	b = append(b, "#0: "...)
	b = append(b, r.Message...)
	b = append(b, h.prefix...)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "level_name" {
			b = appendAttr(b, h.group, a)
		}
		return true
	})
	b = append(b, '\n')
	_, err := h.out.w.Write(b)
	if cap(b) <= 64<<10 {
		h.out.buf = b
	}
	return err
}

// WithAttrs returns a handler whose lines carry as.
func (h *ErrorLine) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	b := []byte(h.prefix)
	for _, a := range as {
		b = appendAttr(b, h.group, a)
	}
	c.prefix = string(b)
	return &c
}

// WithGroup returns a handler that qualifies the keys of later attributes
// with name.
func (h *ErrorLine) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

// appendAttr appends ", key: value"; request_id is quoted, as Kong's
// lines have it.
func appendAttr(b []byte, group string, a slog.Attr) []byte {
	v := a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	if v.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range v.Group() {
			b = appendAttr(b, g, ga)
		}
		return b
	}
	b = append(b, ", "...)
	b = append(b, group...)
	b = append(b, a.Key...)
	b = append(b, ": "...)
	if a.Key == "request_id" && group == "" {
		b = append(b, '"')
		b = append(b, v.String()...)
		return append(b, '"')
	}
	return append(b, v.String()...)
}

// nginxLevel is nginx's name for a slog level (pdk's mapping of nginx's
// levels onto slog's: notice is Info+2, crit Error+4, alert Error+8,
// emerg Error+12).
func nginxLevel(l slog.Level) string {
	switch {
	case l >= slog.LevelError+12:
		return "emerg"
	case l >= slog.LevelError+8:
		return "alert"
	case l >= slog.LevelError+4:
		return "crit"
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo+2:
		return "notice"
	case l >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}
