package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/luahost/luahost/check"
	"github.com/luahost/luahost/kongdb/postgres"
)

const checkUsage = `Usage: luahost check [OPTIONS] [PLUGIN...]

Finds the data-layer mistakes of Kong plugins before they ship: each plugin's
migrations are applied to a scratch PostgreSQL schema (created and dropped
for the run) and the tables compared with daos.lua; daos.lua, the migration
modules, api.lua and the plugin's kong.cache keys are linted. One line per
finding: plugin file:line: severity [kind] message (Kong issue); fix: ...

Options:
  --json                 print the report as JSON
  --no-db                skip the database checks (lints only)
  --pg-host HOST         PostgreSQL server of the scratch schema (pg_host)
  --pg-port PORT         (pg_port)
  --pg-user USER         (pg_user)
  --pg-password PASS     (pg_password)
  --pg-database NAME     database the scratch schema is created in (pg_database)
  (and every option of luahost: -c FILE, --plugins-dir DIR, --set KEY=VALUE ...)

Exit status: 0 clean, 1 warnings only, 2 errors (or the check could not run).
`

// cmdCheck runs `luahost check`.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	var asJSON, noDB bool
	var rest []string
	pg := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			fmt.Fprint(stdout, checkUsage)
			return 0
		case a == "--json":
			asJSON = true
		case a == "--no-db":
			noDB = true
		case strings.HasPrefix(a, "--pg-"):
			k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if !ok {
				if i+1 >= len(args) {
					fmt.Fprintf(stderr, "Error: %s needs a value\n", a)
					return 2
				}
				v = args[i+1]
				i++
			}
			switch k {
			case "pg-host", "pg-port", "pg-user", "pg-password", "pg-database":
				pg[strings.ReplaceAll(k, "-", "_")] = v
			default:
				fmt.Fprintf(stderr, "Error: unknown option %s\n\n%s", a, checkUsage)
				return 2
			}
		default:
			rest = append(rest, a)
		}
	}
	c, fs, err := parseConf("check", rest, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "Error:", err)
		return 2
	}
	for k, v := range pg {
		c.Set(k, v, "--"+strings.ReplaceAll(k, "_", "-"))
	}
	o := check.Options{Conf: c, Plugins: fs.Args()}
	if !noDB {
		cfg := postgres.FromConf(c)
		o.PG = &cfg
	}
	rep, err := check.Run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		if !noDB {
			fmt.Fprintln(stderr, "(the database checks need PostgreSQL: set --pg-* or pg_* properties, or run with --no-db)")
		}
		return 2
	}
	if asJSON {
		if err := rep.WriteJSON(stdout); err != nil {
			fmt.Fprintln(stderr, "Error:", err)
			return 2
		}
	} else {
		rep.WriteText(stdout)
	}
	return rep.ExitCode()
}
