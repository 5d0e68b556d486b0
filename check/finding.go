// Package check is `luahost check`: it finds the data-layer mistakes of
// Kong plugins before they ship. Without a database it lints daos.lua, the
// migration modules, api.lua and the plugin's use of kong.cache; with one,
// it applies the plugin's migrations to a scratch PostgreSQL schema and
// compares the tables they leave with what daos.lua declares. It also
// plans migrations (what `up` and `finish` would run) and checks that they
// can run twice. It loads plugins through host and reads schemas through
// kongdb; nothing depends on it but cmd/luahost.
package check

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Severity of a finding.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one problem in one plugin.
type Finding struct {
	Plugin   string   `json:"plugin"`
	File     string   `json:"file"` // relative to the plugin dir: daos.lua, migrations/000_base.lua
	Line     int      `json:"line"`
	Severity Severity `json:"severity"`
	// Code names the kind of finding (fk-order, name-clash, column-missing...).
	Code    string `json:"code"`
	Message string `json:"message"`
	// Kong is the Kong issue describing the problem ("Kong/kong#7911"), if any.
	Kong string `json:"kong,omitempty"`
	Fix  string `json:"fix"`
}

// String is the one-line form: plugin file:line: severity [code] message
// (Kong issue). fix: ...
func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", f.Plugin, f.File)
	if f.Line > 0 {
		fmt.Fprintf(&b, ":%d", f.Line)
	}
	fmt.Fprintf(&b, ": %s [%s] %s", f.Severity, f.Code, f.Message)
	if f.Kong != "" {
		fmt.Fprintf(&b, " (%s)", f.Kong)
	}
	if f.Fix != "" {
		fmt.Fprintf(&b, "; fix: %s", f.Fix)
	}
	return b.String()
}

// Report is the outcome of a check run.
type Report struct {
	Plugins  []string  `json:"plugins"`
	Findings []Finding `json:"findings"`
	// Database tells whether the migrations were applied and diffed
	// ("" when they were, else why not).
	Database string `json:"database_skipped,omitempty"`
	// Entities lists, per plugin, the daos.lua entities checked (and, with
	// a database, diffed).
	Entities map[string][]string `json:"entities"`
	// Tables lists, per plugin, the tables compared with the entities
	// (database checks only).
	Tables map[string][]string `json:"tables,omitempty"`
}

// Sort orders findings by plugin, file, line, code.
func (r *Report) Sort() {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Plugin != b.Plugin {
			return a.Plugin < b.Plugin
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Message < b.Message
	})
}

// ExitCode is 0 when clean, 1 with warnings only, 2 with errors.
func (r *Report) ExitCode() int {
	code := 0
	for _, f := range r.Findings {
		switch f.Severity {
		case Error:
			return 2
		case Warning:
			code = 1
		}
	}
	return code
}

// Count returns the number of errors and warnings.
func (r *Report) Count() (errs, warns int) {
	for _, f := range r.Findings {
		if f.Severity == Error {
			errs++
		} else {
			warns++
		}
	}
	return
}

// WriteText prints one line per finding and a summary line.
func (r *Report) WriteText(w io.Writer) {
	for _, f := range r.Findings {
		fmt.Fprintln(w, f.String())
	}
	errs, warns := r.Count()
	note := ""
	if r.Database != "" {
		note = " (database checks skipped: " + r.Database + ")"
	}
	n := 0
	for _, es := range r.Entities {
		n += len(es)
	}
	fmt.Fprintf(w, "%d plugin(s), %d entities checked: %d error(s), %d warning(s)%s\n", len(r.Plugins), n, errs, warns, note)
}

// WriteJSON prints the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	out := *r
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
