package main

// luahost config: the resolved configuration, and Kong's `kong config`
// subcommands over declarative files (parse, db_import, db_export).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/declarative"
	"github.com/luahost/luahost/kongdb/schema"
)

// configSubcommands are Kong's `kong config` commands luahost has.
var configSubcommands = map[string]bool{"parse": true, "db_import": true, "db_export": true}

// DefaultDeclarativeFile is where db_export writes without a FILE (Kong's
// ./kong.yml).
const DefaultDeclarativeFile = "kong.yml"

// flagsWithValue are the common options that take a value (so `luahost
// config parse kong.yml -c kong.conf` reads -c after the file, as Kong's
// CLI does).
var flagsWithValue = map[string]bool{"c": true, "conf": true, "plugins-dir": true, "set": true,
	"plugins": true, "lua-package-path": true, "log-level": true, "database": true, "timeout": true}

// splitPositional separates positional arguments from options.
func splitPositional(args []string) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && flagsWithValue[name] && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, pos
}

func cmdConfigSub(c *conf.Config, sub string, args []string, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "Error: "+format+"\n", a...)
		return 1
	}
	offline := c.Get("database") == "off"
	switch sub {
	case "parse", "db_import":
		if len(args) != 1 {
			return fail("expected a declarative configuration file; see 'luahost help'")
		}
		if sub == "db_import" && offline {
			return fail("'luahost config db_import' only works with a database (database = postgres).\n" +
				"With database = off, load the file with declarative_config or POST it to /config.")
		}
	case "db_export":
		if len(args) > 1 {
			return fail("db_export takes one FILE at most (got %q)", strings.Join(args, " "))
		}
	}
	h, ok := loadHost(c, stderr)
	if !ok {
		return 1
	}
	defer h.Close()
	db := h.Root.DB
	if db == nil {
		return fail("no database opened")
	}
	// plugin schemas' Lua functions (custom validators) run in a worker
	ctx := schema.WithFuncRunner(context.Background(), h.FuncRunner())
	switch sub {
	case "parse", "db_import":
		name := args[0]
		data, err := os.ReadFile(name)
		if err != nil {
			return fail("%v", err)
		}
		cfg, err := declarative.Parse(ctx, db, data, name, declarative.ParseOptions{Partial: !offline})
		if err != nil {
			return failParse(stderr, name, err)
		}
		if sub == "parse" {
			fmt.Fprintf(stdout, "parse successful: %s (%d entities)\n", name, len(cfg.Entries))
			return 0
		}
		fmt.Fprintln(stdout, "parse successful, beginning import")
		if err := cfg.Import(ctx, db); err != nil {
			return fail("Failed importing:\n  %v\nNothing was written.", err)
		}
		fmt.Fprintf(stdout, "import successful: %d entities\n", len(cfg.Entries))
		return 0
	case "db_export":
		if offline {
			// the embedded store holds what declarative_config gives it
			if _, err := loadDeclarative(ctx, c, db); err != nil {
				return failParse(stderr, c.Get("declarative_config"), err)
			}
		}
		name := DefaultDeclarativeFile
		if len(args) == 1 {
			name = args[0]
		}
		if name == "-" {
			if err := declarative.Export(ctx, db, stdout, declarative.ExportOptions{}); err != nil {
				return fail("Failed exporting: %v", err)
			}
			return 0
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			return fail("%s already exists. Will not overwrite it.", name)
		} else if err != nil {
			return fail("%v", err)
		}
		if err := declarative.Export(ctx, db, f, declarative.ExportOptions{}); err != nil {
			f.Close()
			os.Remove(name)
			return fail("Failed exporting: %v", err)
		}
		if err := f.Close(); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(stdout, "exported to %s\n", name)
		return 0
	}
	return fail("unknown config command %q", sub)
}

// failParse prints every problem of a declarative file, one a line.
func failParse(stderr io.Writer, name string, err error) int {
	var de *declarative.Error
	if errors.As(err, &de) {
		fmt.Fprintf(stderr, "Error: Failed parsing %s: %d error(s):\n", name, len(de.Problems))
		for _, p := range de.Problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		return 1
	}
	fmt.Fprintf(stderr, "Error: %s: %v\n", name, err)
	return 1
}

// loadDeclarative loads declarative_config (a file) or
// declarative_config_string (its contents) into the embedded store, as
// Kong DB-less does at start. It returns the configuration's hash, "" when
// none is set.
func loadDeclarative(ctx context.Context, c *conf.Config, db *kongdb.DB) (string, error) {
	var data []byte
	name := c.Get("declarative_config")
	switch {
	case name != "":
		b, err := os.ReadFile(name)
		if err != nil {
			return "", err
		}
		data = b
	case c.Get("declarative_config_string") != "":
		data = []byte(c.Get("declarative_config_string"))
	default:
		return "", nil
	}
	cfg, err := declarative.Parse(ctx, db, data, name, declarative.ParseOptions{})
	if err != nil {
		return "", err
	}
	if err := cfg.Replace(ctx, db); err != nil {
		return "", err
	}
	return cfg.Hash, nil
}
