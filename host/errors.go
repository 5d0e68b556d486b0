package host

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// LoadError is a plugin that failed to load, or a Lua call that failed:
// it names the plugin, the file, the line and the phase, and wraps the
// underlying error.
type LoadError struct {
	Plugin string
	File   string // chunk name (kong/plugins/<name>/handler.lua) or path
	Path   string // file on disk, for the source excerpt
	Line   int
	Phase  string // "handler", "schema", "daos", "migrations", "api", "init_worker", "access", ...
	Msg    string
	Err    error
	// Module is the module the plugin needs and luahost lacks (not
	// installed, or compiled), when that is why it failed; Rock the rock
	// that provides it, when known.
	Module, Rock string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	if e.Plugin != "" {
		fmt.Fprintf(&b, "plugin '%s'", e.Plugin)
	}
	if e.Phase != "" {
		fmt.Fprintf(&b, " (%s)", e.Phase)
	}
	if e.File != "" {
		b.WriteString(": ")
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return strings.TrimPrefix(b.String(), ": ")
}

func (e *LoadError) Unwrap() error { return e.Err }

// Excerpt returns a few source lines around the error line, numbered, with
// the failing line marked; "" when the file cannot be read.
func (e *LoadError) Excerpt() string {
	if e.Path == "" || e.Line <= 0 || strings.HasPrefix(e.Path, "embedded:") {
		return ""
	}
	b, err := os.ReadFile(e.Path)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	var out strings.Builder
	for i := e.Line - 3; i <= e.Line+1; i++ {
		if i < 1 || i > len(lines) {
			continue
		}
		mark := "   "
		if i == e.Line {
			mark = " > "
		}
		fmt.Fprintf(&out, "%s%4d | %s\n", mark, i, lines[i-1])
	}
	return out.String()
}

var (
	// "kong/plugins/x/handler.lua:12: message": runtime errors, and syntax
	// errors as Lua 5.1 reports them (luavm.SyntaxError):
	// "kong/plugins/x/daos.lua:9: unexpected symbol near ','"
	reRuntimePos = regexp.MustCompile(`([^\s:'"]+\.lua):(\d+):\s*`)
	// gopher-lua's own parse errors, kept when luavm's Lua 5.1 checker
	// finds no error: "kong/plugins/x/daos.lua line:3(column:10) near 'x':   syntax error"
	reSyntaxPos = regexp.MustCompile(`([^\s:'"]+\.lua) line:(\d+)\(column:(\d+)\)`)
)

// locate finds the first "<file>.lua:<line>:" (a runtime or a Lua 5.1
// syntax error) or gopher-lua parse error position in a Lua error message,
// preferring files of the given plugin.
func locate(msg, plugin string) (file string, line int, rest string) {
	type pos struct {
		file string
		line int
		end  int
	}
	var found []pos
	for _, m := range reSyntaxPos.FindAllStringSubmatchIndex(msg, -1) {
		n, _ := strconv.Atoi(msg[m[4]:m[5]])
		found = append(found, pos{msg[m[2]:m[3]], n, m[1]})
	}
	for _, m := range reRuntimePos.FindAllStringSubmatchIndex(msg, -1) {
		n, _ := strconv.Atoi(msg[m[4]:m[5]])
		found = append(found, pos{msg[m[2]:m[3]], n, m[1]})
	}
	if len(found) == 0 {
		return "", 0, msg
	}
	best := found[0]
	if plugin != "" {
		for _, p := range found {
			if strings.Contains(p.file, "plugins/"+plugin+"/") {
				best = p
				break
			}
		}
	}
	return best.file, best.line, strings.TrimSpace(msg)
}
