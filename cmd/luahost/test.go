package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/pdk/spechelpers"
	lua "github.com/yuin/gopher-lua"
)

// cmdTest runs busted-style spec files and prints busted's summary line.
func cmdTest(c *conf.Config, paths []string, timeout time.Duration, stdout, stderr io.Writer) int {
	if len(paths) == 0 {
		paths = []string{"spec"}
	}
	files, err := host.FindSpecs(paths...)
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "Error: no *_spec.lua file under", strings.Join(paths, " "))
		return 1
	}
	h, ok := loadHost(c, stderr)
	if !ok {
		return 1
	}
	defer h.Close()
	nodes := newSpecNodes(c)
	defer nodes.Close()
	h.SpecSetup = func(L *lua.LState) { spechelpers.Install(L, nodes) }
	start := time.Now()
	var okN, failN, errN, pendN int
	var problems []host.SpecResult
	for _, f := range files {
		rep, err := h.RunSpecFileTimeout(f, timeout)
		if err != nil {
			fmt.Fprintf(stderr, "Error: %s: %v\n", f, err)
			errN++
			continue
		}
		for _, r := range rep.Results {
			switch r.Status {
			case "success":
				okN++
				fmt.Fprint(stdout, "●")
			case "failure":
				failN++
				fmt.Fprint(stdout, "◼")
				problems = append(problems, r)
			case "error":
				errN++
				fmt.Fprint(stdout, "✱")
				problems = append(problems, r)
			case "pending":
				pendN++
				fmt.Fprint(stdout, "◌")
			}
		}
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "%s / %s / %s / %s : %.6f seconds\n", count(okN, "success", "successes"),
		count(failN, "failure", "failures"), count(errN, "error", "errors"), count(pendN, "pending", "pending"),
		time.Since(start).Seconds())
	for _, r := range problems {
		title := "Failure"
		if r.Status == "error" {
			title = "Error"
		}
		fmt.Fprintf(stdout, "\n%s → %s @ %d\n%s\n%s\n", title, r.File, r.Line, r.Name, r.Message)
	}
	if failN+errN > 0 {
		return 1
	}
	return 0
}

// count is busted's "1 success", "2 successes".
func count(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
