package host

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk"
)

// SpecResult is one busted test outcome.
type SpecResult struct {
	File    string
	Name    string // describe and it names joined by spaces, as busted prints them
	Line    int    // line of the it
	Status  string // success, failure, error, pending
	Message string // failure or error text (with the spec file:line of the assertion)
	Trace   string
}

// SpecReport is the outcome of one spec file.
type SpecReport struct {
	File     string
	Results  []SpecResult
	Duration time.Duration
}

// Counts returns successes, failures, errors, pending.
func (r *SpecReport) Counts() (ok, failed, errored, pending int) {
	for _, res := range r.Results {
		switch res.Status {
		case "success":
			ok++
		case "failure":
			failed++
		case "error":
			errored++
		case "pending":
			pending++
		}
	}
	return
}

// SpecTimeout bounds one spec file's run.
var SpecTimeout = 2 * time.Minute

// RunSpecFile runs a busted-style spec file in a fresh worker (every
// enabled plugin loaded, init_worker run), so globals set by one file do
// not leak into the next.
func (h *Host) RunSpecFile(path string) (*SpecReport, error) {
	start := time.Now()
	chunk := path
	if rel, err := filepath.Rel(mustGetwd(), path); err == nil && !strings.HasPrefix(rel, "..") {
		chunk = rel
	}
	rep := &SpecReport{File: chunk}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	w, _, errs := h.newWorker(0, false)
	if len(errs) > 0 {
		if w != nil {
			w.Close()
		}
		return nil, &PluginErrors{Errs: errs}
	}
	defer w.Close()
	pdk.Drain(w.In)
	w.timeout = SpecTimeout
	w.In.Phase = "timer"
	L := w.L

	bv, err := w.requireIn("busted")
	if err != nil {
		return nil, fmt.Errorf("loading the busted runner: %w", err)
	}
	busted := bv.(*lua.LTable)
	if err := w.call(L.GetField(busted, "install"), 0, L.G.Global); err != nil {
		return nil, err
	}
	fileErr := func(err error) *SpecReport {
		le := w.errorOf("", "spec", err)
		msg := le.Msg
		if le.File != "" {
			msg = fmt.Sprintf("%s:%d: %s", le.File, le.Line, le.Msg)
		}
		rep.Results = append(rep.Results, SpecResult{File: chunk, Name: chunk, Status: "error", Message: msg, Line: le.Line})
		rep.Duration = time.Since(start)
		return rep
	}
	proto, err := compileChunk(chunk, src)
	if err != nil {
		return fileErr(err), nil
	}
	if err := w.call(L.NewFunctionFromProto(proto), 0); err != nil {
		return fileErr(err), nil
	}
	report := L.NewFunction(func(L *lua.LState) int {
		rep.Results = append(rep.Results, SpecResult{
			File: chunk, Status: L.CheckString(1), Name: L.CheckString(2), Line: L.OptInt(3, 0),
			Message: L.OptString(4, ""), Trace: L.OptString(5, ""),
		})
		return 0
	})
	if err := w.call(L.GetField(busted, "run"), 0, report); err != nil {
		return fileErr(err), nil
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// FindSpecs lists *_spec.lua files under the given files or directories,
// sorted, as busted does.
func FindSpecs(paths ...string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, "_spec.lua") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}
