package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
)

func flagBool(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, _ := f.Value.(flag.Getter).Get().(bool)
	return b
}

// cmdPlugins loads the enabled plugins as `luahost run` would and
// describes them; the bundled plugins left out for a module luahost lacks
// are listed with that module. With report, it says instead which Kong
// generations each plugin's APIs belong to.
func cmdPlugins(c *conf.Config, report, asJSON bool, stdout, stderr io.Writer) int {
	h, ok := loadHost(c, stderr)
	if !ok {
		return 1
	}
	defer h.Close()
	if report {
		return pluginsReport(h, asJSON, stdout)
	}
	if len(h.Plugins) == 0 {
		fmt.Fprintln(stdout, "no plugin enabled (plugins_dir:", c.Get("plugins_dir")+")")
	}
	// migrations are read here to describe them; a broken one does not
	// stop the listing (DB-less, Kong never reads them)
	migErrs := map[string][]string{}
	for _, le := range h.LoadMigrations() {
		migErrs[le.Plugin] = append(migErrs[le.Plugin], le.Error())
	}
	for _, p := range h.Plugins {
		version := p.Version
		if version == "" {
			version = "-"
		}
		fmt.Fprintf(stdout, "%s %s\n", p.Name, version)
		fmt.Fprintf(stdout, "  priority:   %d\n", p.Priority)
		phases := strings.Join(p.Phases, ", ")
		if p.Legacy {
			phases += " (BasePlugin subclass)"
		}
		fmt.Fprintf(stdout, "  phases:     %s\n", orNone(phases))
		fmt.Fprintf(stdout, "  entities:   %s\n", orNone(strings.Join(p.Entities(), ", ")))
		if errs := migErrs[p.Name]; len(errs) > 0 {
			fmt.Fprintf(stdout, "  migrations: broken (needed only with a database):\n    %s\n", strings.Join(errs, "\n    "))
		} else {
			fmt.Fprintf(stdout, "  migrations: %s\n", orNone(strings.Join(p.Migrations, ", ")))
		}
		if p.HasAPI {
			fmt.Fprintf(stdout, "  api:        api.lua\n")
		}
		if p.Rock != "" {
			fmt.Fprintf(stdout, "  rock:       %s\n", filepath.Base(p.Rock))
		}
		fmt.Fprintf(stdout, "  dir:        %s\n", p.Dir)
	}
	if len(h.Skipped) > 0 {
		fmt.Fprintf(stdout, "\nnot loaded (%d bundled plugins needing what luahost lacks):\n", len(h.Skipped))
		for _, s := range h.Skipped {
			fmt.Fprintf(stdout, "%s: needs %s\n  %s\n", s.Name, s.Module, strings.SplitN(s.Err.Error(), "\n", 2)[0])
		}
	}
	return 0
}

// pluginsReport prints, per plugin, the Kong generations its APIs belong
// to and the Kong versions that accept it.
func pluginsReport(h *host.Host, asJSON bool, stdout io.Writer) int {
	h.LoadMigrations() // cassandra sections are read from them; errors are the plain listing's
	var out []*host.Generations
	for _, p := range h.Plugins {
		out = append(out, h.Generations(p))
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if out == nil {
			out = []*host.Generations{}
		}
		if err := enc.Encode(out); err != nil {
			return 1
		}
		return 0
	}
	for i, g := range out {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s: %s\n", g.Plugin, orNone(strings.Join(g.Generations, ", ")))
		fmt.Fprintf(stdout, "  Kong accepting it: %s\n", acceptRange(g))
		for _, a := range g.APIs {
			fmt.Fprintf(stdout, "  - %s [%s] %s (%s)\n", a.Name, a.Generation, a.Refused, a.Where)
		}
	}
	return 0
}

func acceptRange(g *host.Generations) string {
	switch {
	case !g.Accepted:
		return fmt.Sprintf("none (needs %s or later, refused from %s on); luahost runs it", g.Since, g.Until)
	case g.Since == "" && g.Until == "":
		return "every version"
	case g.Since == "":
		return "before " + g.Until + " (refused from " + g.Until + " on)"
	case g.Until == "":
		return g.Since + " and later (refused before " + g.Since + ")"
	}
	return g.Since + " up to " + g.Until + " (refused before " + g.Since + " and from " + g.Until + " on)"
}
