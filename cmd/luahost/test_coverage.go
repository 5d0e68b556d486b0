package main

// luahost test --coverage: line hits of the plugin's files, counted in
// every Lua state of the run (the spec runner's and the workers of the
// nodes start_kong starts, so the plugin code run through the proxy counts
// too), written as LuaCov's luacov.stats.out and summed up per file.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/luavm"
)

// CoverageStatsFile is LuaCov's default stats file name.
const CoverageStatsFile = "luacov.stats.out"

// newTestCoverage covers the Lua files under the current directory and
// the plugins dirs, but not the specs (spec/, *_spec.lua): LuaCov's usual
// .luacov for a plugin.
func newTestCoverage(c *conf.Config) *luavm.Coverage {
	wd := mustGetwd()
	roots := []string{wd}
	for _, d := range c.List("plugins_dir") {
		if abs, err := filepath.Abs(d); err == nil {
			roots = append(roots, abs)
		}
	}
	return &luavm.Coverage{Include: func(path string) (string, bool) {
		abs, err := filepath.Abs(path)
		if err != nil || strings.HasSuffix(abs, "_spec.lua") {
			return "", false
		}
		for _, root := range roots {
			rel, err := filepath.Rel(root, abs)
			if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
				continue
			}
			rel = filepath.ToSlash(rel)
			if rel == "spec" || strings.HasPrefix(rel, "spec/") {
				return "", false
			}
			if root != wd {
				// a plugins dir outside the current directory: named from it
				if r2, err := filepath.Rel(wd, abs); err == nil {
					rel = filepath.ToSlash(r2)
				}
			}
			return rel, true
		}
		return "", false
	}}
}

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}

// writeCoverage writes the stats file and prints LuaCov's summary table.
func writeCoverage(cov *luavm.Coverage, path string, stdout io.Writer) error {
	files := cov.Files()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := luavm.WriteStats(f, files); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	width := len("File")
	for _, fc := range files {
		if len(fc.Name) > width {
			width = len(fc.Name)
		}
	}
	rule := strings.Repeat("-", width+26)
	fmt.Fprintf(stdout, "\nCoverage (%s)\n%s\n", path, rule)
	fmt.Fprintf(stdout, "%-*s %6s %6s %9s\n", width, "File", "Hits", "Missed", "Coverage")
	fmt.Fprintln(stdout, rule)
	var th, tm int
	for _, fc := range files {
		h, m := fc.Covered()
		th, tm = th+h, tm+m
		fmt.Fprintf(stdout, "%-*s %6d %6d %8.2f%%\n", width, fc.Name, h, m, percent(h, m))
	}
	fmt.Fprintln(stdout, rule)
	fmt.Fprintf(stdout, "%-*s %6d %6d %8.2f%%\n", width, "Total", th, tm, percent(th, tm))
	return nil
}

func percent(h, m int) float64 {
	if h+m == 0 {
		return 0
	}
	return 100 * float64(h) / float64(h+m)
}
