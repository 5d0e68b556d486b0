// Command luahost runs unmodified Kong Gateway plugins in Go.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
)

// Version is luahost's version; KongVersion the Kong plugin API it answers
// to (kong.version).
const (
	Version     = "0.1.0"
	KongVersion = "3.9.1"
)

const usage = `Usage: luahost COMMAND [OPTIONS]

Runs unmodified Kong Gateway plugins (handler.lua, schema.lua, daos.lua,
migrations/, api.lua) inside a Go process.

Commands:
  run          run the proxy node (also: start): routes requests to Services
               on proxy_listen; SIGINT/SIGTERM stop it gracefully
  version      print luahost's version
  plugins      load the enabled plugins and describe them (or list their errors);
               --report: the Kong generations whose APIs each plugin uses and
               the Kong versions that would refuse it (--json for JSON)
  test [PATH]  run busted-style *_spec.lua files (default: ./spec)
  migrations   bootstrap|up|finish|list|status|reset, as 'kong migrations'
               (see 'luahost migrations --help')
  config       print the resolved configuration and where each value came from
  config parse FILE        check a declarative kong.yml (YAML or JSON), listing
                           every error
  config db_import FILE    import a kong.yml into PostgreSQL (all or nothing)
  config db_export [FILE]  write the database (or, with database = off, the
                           declarative_config) as a kong.yml (default ./kong.yml;
                           '-' = stdout)
  check [PLUGIN...]
               find a plugin's data-layer bugs: migrations applied to a scratch
               PostgreSQL schema and diffed against daos.lua, plus lints
               (see 'luahost check --help')

Options (every command):
  -c, --conf FILE           a kong.conf-style configuration file
  --plugins-dir DIR         where plugins live (repeatable); also the plugins_dir property
  --plugins LIST            enabled plugins (default: bundled = Kong's bundled
                            plugins found on the Lua path, plus every plugin
                            of the plugins dirs)
  --rocks-tree DIR          a LuaRocks tree whose modules plugins may require
                            (repeatable); also the lua_rocks_trees property
  --lua-package-path PATH   Kong's lua_package_path
  --log-level LEVEL         debug, info, notice, warn, error
  --database NAME           off (embedded memory store) or postgres
  --set KEY=VALUE           any other property (repeatable)
  --timeout DURATION        test: stop a hook or test running longer (default 30s)

Options of test (busted's; also read from the default task of ./.busted,
or the task named by --run):
  -o, --output NAME         utfTerminal (default), plainTerminal, TAP, json, junit, gtest
  --filter PATTERN          run only tests whose full name matches (Lua pattern; repeatable)
  --filter-out PATTERN      skip tests whose full name matches (repeatable)
  -t, --tags LIST           run only tests tagged #tag in their names (comma-separated)
  --exclude-tags LIST       skip tests with one of these tags
  --shuffle, --seed N       run files and tests in a random order (seed printed on stderr);
                            --shuffle-files, --shuffle-tests for one of them
  --suppress-pending        leave pending tests out of the report
  -v, --verbose             add Lua tracebacks to failures and errors
  --repeat N                run the specs N times
  --no-keep-going           stop at the first failure or error
  -p, --pattern PATTERN     spec file names to run under directories (Lua pattern, default _spec)
  --exclude-pattern PATTERN spec file names to skip
  Exit status: 0 when every test passed, 1 otherwise.
  --audit-cache             run: on exit, list the keys cached in kong.cache that
                            no invalidation (entity write) ever matched

Configuration is read as Kong reads it: defaults, then the file, then KONG_*
environment variables, then options.
`

func main() {
	os.Exit(profiled(os.Getenv("LUAHOST_CPUPROFILE"), func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

// profiled runs f, writing a CPU profile of it to file when file is set
// (LUAHOST_CPUPROFILE: how bench/plugin.sh's proxies are profiled under
// wrk; `luahost run` returns after a graceful stop, so SIGTERM writes it).
func profiled(file string, f func() int) int {
	if file == "" {
		return f()
	}
	out, err := os.Create(file)
	if err != nil {
		fmt.Fprintf(os.Stderr, "LUAHOST_CPUPROFILE: %v\n", err)
		return 1
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		fmt.Fprintf(os.Stderr, "LUAHOST_CPUPROFILE: %v\n", err)
		return 1
	}
	defer pprof.StopCPUProfile()
	return f()
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// parseConf reads the common options of every command.
func parseConf(name string, args []string, stderr io.Writer) (*conf.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	var file string
	var dirs, sets, trees multi
	fs.StringVar(&file, "c", "", "configuration file")
	fs.StringVar(&file, "conf", "", "configuration file")
	fs.Var(&dirs, "plugins-dir", "plugins directory (repeatable)")
	fs.Var(&trees, "rocks-tree", "LuaRocks tree (repeatable)")
	fs.Bool("report", false, "plugins: the Kong generations each plugin's APIs belong to")
	fs.Bool("json", false, "plugins --report: as JSON")
	fs.Var(&sets, "set", "KEY=VALUE (repeatable)")
	fs.Duration("timeout", host.DefaultSpecTimeout, "test: per-test timeout")
	auditCache := fs.Bool("audit-cache", false, "run: report cached keys no invalidation matched")
	named := map[string]*string{}
	for _, p := range []string{"plugins", "lua-package-path", "log-level", "database"} {
		named[p] = fs.String(p, "", p)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	c := conf.New()
	if file != "" {
		if err := c.LoadFile(file); err != nil {
			return nil, nil, err
		}
	}
	c.LoadEnv(os.Environ())
	for k, v := range named {
		if *v != "" {
			c.Set(strings.ReplaceAll(k, "-", "_"), *v, "--"+k)
		}
	}
	for _, d := range dirs {
		c.Append("plugins_dir", d, "--plugins-dir")
	}
	for _, d := range trees {
		c.Append("lua_rocks_trees", d, "--rocks-tree")
	}
	if *auditCache {
		c.Set("audit_cache", "on", "--audit-cache")
	}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, nil, fmt.Errorf("--set %q: expected KEY=VALUE", s)
		}
		c.Set(k, v, "--set")
	}
	if err := c.Check(); err != nil {
		return nil, nil, err
	}
	return c, fs, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 1
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "luahost %s (Kong %s plugin API)\n", Version, KongVersion)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "migrations":
		return cmdMigrations(rest, os.Stdin, stdout, stderr)
	case "check":
		return cmdCheck(rest, stdout, stderr)
	}
	var sub string
	var subArgs []string
	var topts *testOptions
	if cmd == "test" {
		var err error
		if topts, rest, err = parseTestArgs(rest); err != nil {
			fmt.Fprintln(stderr, "Error:", err)
			return 1
		}
	}
	if cmd == "config" && len(rest) > 0 && configSubcommands[rest[0]] {
		sub = rest[0]
		rest, subArgs = splitPositional(rest[1:])
	}
	c, fs, err := parseConf(cmd, rest, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	switch cmd {
	case "plugins":
		return cmdPlugins(c, flagBool(fs, "report"), flagBool(fs, "json"), stdout, stderr)
	case "config":
		if sub == "" && len(fs.Args()) > 0 {
			// options before the subcommand: luahost config -c kong.conf parse kong.yml
			sub, subArgs = fs.Args()[0], fs.Args()[1:]
			if !configSubcommands[sub] {
				fmt.Fprintf(stderr, "Error: unknown config command %q (parse, db_import, db_export)\n", sub)
				return 1
			}
		}
		if sub != "" {
			return cmdConfigSub(c, sub, subArgs, stdout, stderr)
		}
		return cmdConfig(c, stdout)
	case "run", "start":
		return cmdRun(c, fs.Args(), stdout, stderr)
	case "test":
		timeout := fs.Lookup("timeout").Value.(flag.Getter).Get().(time.Duration)
		return cmdTest(c, topts, fs.Args(), timeout, stdout, stderr)
	}
	fmt.Fprintf(stderr, "Error: unknown command %q\n\n%s", cmd, usage)
	return 1
}

// loadHost builds the host, printing every plugin error on failure.
func loadHost(c *conf.Config, stderr io.Writer) (*host.Host, bool) {
	h, err := host.New(host.Options{Conf: c})
	if err != nil {
		var pe *host.PluginErrors
		if errors.As(err, &pe) {
			fmt.Fprintln(stderr, "Error:", pe.Detailed())
		} else {
			fmt.Fprintln(stderr, "Error:", err)
		}
		return nil, false
	}
	return h, true
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "none"
	}
	return s
}

func cmdConfig(c *conf.Config, stdout io.Writer) int {
	for _, k := range c.Keys() {
		fmt.Fprintf(stdout, "%s = %s  # %s\n", k, c.Get(k), c.Source(k))
	}
	return 0
}
