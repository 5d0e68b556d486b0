package pdk

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// kong.log's formats (Kong's kong/pdk/log.lua): every line starts with
// "[kong] "; the core facility's default omits the namespace.
const (
	kongLogPrefix              = "[kong] "
	defaultLogFormat           = "%file_src:%line_src %message"
	defaultNamespacedLogFormat = "%file_src:%line_src [%namespace] %message"
)

// A logFormat is a format cut where Kong's parse_modifiers cuts it: at
// each "%" not preceded by "%" and followed by [a-z_]+ (the longest run).
// A piece that is exactly a modifier (%file_src, %line_src, %func_name,
// %message) is replaced when logging; anything else, "%foo", "%messages"
// or "%%message" included, stays as written. %namespace was replaced
// before (substituteNamespace); one it did not replace stays as written.
type logFormat struct {
	parts []logPart
	frame bool // a part reads the caller's frame (Kong's debug_flags)
}

type logPart struct {
	kind logPartKind
	lit  string
}

type logPartKind uint8

const (
	partLit logPartKind = iota
	partFile
	partLine
	partFunc
	partMessage
)

var logModifiers = map[string]logPartKind{
	"%file_src": partFile, "%line_src": partLine, "%func_name": partFunc, "%message": partMessage,
}

func compileLogFormat(s string) *logFormat {
	f := &logFormat{}
	lit := 0 // start of the pending literal
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || (i > 0 && s[i-1] == '%') {
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] == '_') {
			j++
		}
		if j == i+1 {
			continue
		}
		kind, ok := logModifiers[s[i:j]]
		if !ok {
			i = j - 1
			continue
		}
		if lit < i {
			f.parts = append(f.parts, logPart{kind: partLit, lit: s[lit:i]})
		}
		f.parts = append(f.parts, logPart{kind: kind})
		if kind != partMessage {
			f.frame = true
		}
		lit, i = j, j-1
	}
	if lit < len(s) {
		f.parts = append(f.parts, logPart{kind: partLit, lit: s[lit:]})
	}
	return f
}

// render writes the line: the caller level frames up (1: the caller of the
// running Go function) for %file_src, %line_src and %func_name, and the
// arguments from first on, through tostring and concatenated, for
// %message.
func (f *logFormat) render(L *lua.LState, level, first int) string {
	var file, line, fname string
	if f.frame {
		file, line, fname = logFrame(L, level)
	}
	var msg string
	msgDone := false
	var b strings.Builder
	for _, p := range f.parts {
		switch p.kind {
		case partLit:
			b.WriteString(p.lit)
		case partFile:
			b.WriteString(file)
		case partLine:
			b.WriteString(line)
		case partFunc:
			b.WriteString(fname)
		case partMessage:
			if !msgDone {
				var m strings.Builder
				for i := first; i <= L.GetTop(); i++ {
					m.WriteString(luavm.TostringValue(L, L.Get(i)).String())
				}
				msg, msgDone = m.String(), true
			}
			b.WriteString(msg)
		}
	}
	return b.String()
}

// logFrame is what Kong's getinfo gives its modifiers, "?" for what it has
// not: the base name of the source, the current line and the name the
// function was called by (none for a main chunk or an anonymous call); a
// Go function's frame is LuaJIT's C frame, "[C]" at line -1.
func logFrame(L *lua.LState, level int) (file, line, fname string) {
	dbg, ok := L.GetStack(level)
	if !ok {
		return "?", "?", "?"
	}
	if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
		return "?", "?", "?"
	}
	if dbg.What == "G" {
		file, line = "[C]", "-1"
	} else {
		file = dbg.Source
		if i := strings.LastIndexByte(file, '/'); i >= 0 {
			file = file[i+1:]
		}
		if file == "" {
			file = "?"
		}
		line = strconv.Itoa(dbg.CurrentLine)
	}
	fname = dbg.Name
	switch {
	case fname == "", fname == "?", fname == "main chunk", fname == "corountine", fname == "(anonymous)",
		strings.HasPrefix(fname, "<"):
		fname = "?"
	}
	return file, line, fname
}
