package main

// luahost test --watch: after the first round, the files of the run are
// polled (every watchInterval: modification time and size), and an edit
// runs again the spec files it touches: an edited spec file, and every spec
// file whose last run loaded the edited file (a module it required, or a
// file of a plugin its nodes ran).

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/luavm"
)

// watchInterval is how often --watch looks at the files.
const watchInterval = 20 * time.Millisecond

// recordRequires wraps L's require so that rec sees every module name a
// spec (or the code it runs in its own state) requires.
func recordRequires(L *lua.LState, rec func(name string)) {
	proto, err := luavm.Compile("=luahost.require", []byte(
		"local req, rec = ...\nreturn function(name, ...) rec(name) return req(name, ...) end"))
	if err != nil {
		return
	}
	L.Push(L.NewFunctionFromProto(proto))
	L.Push(L.GetGlobal("require"))
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if s, ok := L.Get(1).(lua.LString); ok {
			rec(string(s))
		}
		return 0
	}))
	if err := L.PCall(2, 1, nil); err != nil {
		return
	}
	L.SetGlobal("require", L.Get(-1))
	L.Pop(1)
}

// recordDeps keeps what spec file f's run loaded.
func (t *testRun) recordDeps(h *host.Host, f string, required, pluginDirs []string) {
	set := map[string]bool{absPath(f): true}
	for _, name := range required {
		if p := h.ModulePath(name); p != "" {
			set[absPath(p)] = true
		}
		if rest, ok := strings.CutPrefix(name, "kong.plugins."); ok {
			plugin, _, _ := strings.Cut(rest, ".")
			if p := h.Plugin(plugin); p != nil {
				pluginDirs = append(pluginDirs, p.Dir)
			}
		}
	}
	for _, d := range pluginDirs {
		for _, p := range luaFiles(d) {
			set[p] = true
		}
	}
	t.deps[absPath(f)] = set
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// luaFiles lists the .lua files under dir (absolute paths; hidden
// directories skipped).
func luaFiles(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if name := d.Name(); path != dir && strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".lua") {
			out = append(out, absPath(path))
		}
		return nil
	})
	return out
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// scan stamps the files watched: the .lua files under the spec paths, and
// every file a spec file's run loaded.
func (t *testRun) scan(paths []string) map[string]fileStamp {
	out := map[string]fileStamp{}
	add := func(p string) {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			out[p] = fileStamp{st.ModTime(), st.Size()}
		}
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			for _, f := range luaFiles(p) {
				add(f)
			}
		} else {
			add(absPath(p))
		}
	}
	for _, set := range t.deps {
		for p := range set {
			if _, ok := out[p]; !ok {
				add(p)
			}
		}
	}
	return out
}

// changedFiles lists the files added, removed or modified between two scans.
func changedFiles(before, after map[string]fileStamp) []string {
	var out []string
	for p, a := range after {
		if b, ok := before[p]; !ok || !b.mod.Equal(a.mod) || b.size != a.size {
			out = append(out, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// affected lists the spec files (as findSpecFiles names them) to run again
// for the changed files.
func (t *testRun) affected(paths, changed []string) []string {
	specs, err := findSpecFiles(paths, t.o.pattern, t.o.exclude)
	if err != nil {
		fmt.Fprintln(t.stderr, "Error:", err)
		return nil
	}
	isChanged := map[string]bool{}
	for _, c := range changed {
		isChanged[c] = true
	}
	var out []string
	for _, s := range specs {
		abs := absPath(s)
		hit := isChanged[abs]
		for p := range t.deps[abs] {
			if hit {
				break
			}
			hit = isChanged[p]
		}
		if hit {
			out = append(out, s)
		}
	}
	return out
}

// watch runs the affected spec files again after each tick that finds an
// edit, until stop is closed; roundDone (tests) is told after each tick,
// with the spec files run (none when nothing changed or the edit touched
// no spec file). It returns the last round's exit code.
func (t *testRun) watch(paths []string, tick <-chan time.Time, stop <-chan struct{}, roundDone func(ran []string)) int {
	stamps := t.scan(paths)
	fmt.Fprintln(t.stderr, "luahost test --watch: waiting for changes (Ctrl-C to stop)")
	for {
		select {
		case <-stop:
			return t.last
		case <-tick:
		}
		now := t.scan(paths)
		changed := changedFiles(stamps, now)
		stamps = now
		var specs []string
		if len(changed) > 0 {
			specs = t.affected(paths, changed)
		}
		if len(specs) > 0 {
			fmt.Fprintf(t.stderr, "\nluahost test --watch: %s changed: running %s\n", relNames(changed), strings.Join(specs, " "))
			t.round(specs)
			// what the round loaded is watched from now on; a file seen
			// before keeps the stamp it had before the round, so that an
			// edit made while the round ran is seen at the next tick
			for p, st := range t.scan(paths) {
				if _, ok := stamps[p]; !ok {
					stamps[p] = st
				}
			}
		}
		if roundDone != nil {
			roundDone(specs)
		}
	}
}

func relNames(paths []string) string {
	wd := mustGetwd()
	out := make([]string, len(paths))
	for i, p := range paths {
		if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
			p = r
		}
		out[i] = p
	}
	return strings.Join(out, ", ")
}
