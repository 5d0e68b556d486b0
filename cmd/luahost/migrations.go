package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
)

const migrationsUsage = `Usage: luahost migrations COMMAND [OPTIONS]

Manage database schema migrations, as 'kong migrations' does.

Commands:
  bootstrap   bootstrap the database and run all migrations
  up          run any new migrations
  finish      finish running any pending migrations after 'up'
  list        list executed and pending migrations
  status      dump the database migration status in JSON format
  reset       reset the database
  plan        print what 'up' and 'finish' would run, in order, per subsystem
              and migration: the SQL of each up, the Lua steps (up_f,
              teardown) named with file:line; nothing is run
              --check-reentrant: also run every migration twice on a scratch
              schema of the server and report the steps that fail the second
              time (Kong requires migrations to be re-entrant)

Options:
  -y, --yes             assume "yes" to prompts and run non-interactively
  -q, --quiet           suppress all output
  -f, --force           run migrations even if the database reports as already executed
  --db-timeout SECONDS  timeout, in seconds, for all database operations (default 60)
  --lock-timeout SECS   timeout, in seconds, for nodes waiting on the leader to finish (default 60)
  -c, --conf FILE       configuration file
  (and every option of luahost: --plugins-dir, --plugins, --set KEY=VALUE ...)
`

// cmdMigrations runs `luahost migrations <cmd>` with Kong's flags, output
// and exit codes.
func cmdMigrations(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, migrationsUsage)
		return 0
	}
	sub, rest := args[0], args[1:]
	var yes, quiet, force, reentrant, asJSON bool
	var dbTimeout, lockTimeout string
	var extra []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch a {
		case "-y", "--yes":
			yes = true
		case "-q", "--quiet":
			quiet = true
		case "-f", "--force":
			force = true
		case "--check-reentrant":
			reentrant = true
		case "--json":
			asJSON = true
		case "--db-timeout", "--lock-timeout":
			if i+1 >= len(rest) {
				fmt.Fprintf(stderr, "Error: %s needs a value\n", a)
				return 1
			}
			if a == "--db-timeout" {
				dbTimeout = rest[i+1]
			} else {
				lockTimeout = rest[i+1]
			}
			i++
		default:
			extra = append(extra, a)
		}
	}
	c, _, err := parseConf("migrations "+sub, extra, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	if c.Get("database") == "off" {
		fmt.Fprintln(stderr, "Error: cannot run migrations with database = off; set database = postgres")
		return 1
	}
	pcfg := postgres.FromConf(c)
	// Kong's `migrations --db-timeout` (default 60) replaces pg_timeout:
	// a migration statement may take far longer than a request's query.
	if pcfg.Timeout, err = migrationsDBTimeout(dbTimeout); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	lock := 60 * time.Second
	if lockTimeout != "" {
		s, err := strconv.ParseFloat(lockTimeout, 64)
		if err != nil {
			fmt.Fprintln(stderr, "Error: --lock-timeout must be a number of seconds")
			return 1
		}
		lock = time.Duration(s * float64(time.Second))
	}
	out := stdout
	if quiet {
		out = io.Discard
	}

	h, err := host.New(host.Options{Conf: c, NoDB: true})
	if err != nil {
		var pe *host.PluginErrors
		if errors.As(err, &pe) {
			fmt.Fprintln(stderr, "Error:", pe.Detailed())
		} else {
			fmt.Fprintln(stderr, "Error:", err)
		}
		return 1
	}
	defer h.Close()
	subs, err := h.Subsystems()
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	ctx := context.Background()
	conn, err := postgres.Open(ctx, pcfg)
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	defer conn.Close()
	hostname, _ := os.Hostname()
	m := &migrations.Migrator{Conn: conn, Subsystems: subs, Runner: h, Out: out, LockTimeout: lock,
		Owner: fmt.Sprintf("%s:%d", hostname, os.Getpid())}

	fail := func(err error) int {
		var me *migrations.Error
		code := 1
		if errors.As(err, &me) && me.Code != 0 {
			code = me.Code
		}
		fmt.Fprintln(stderr, "Error:", err)
		return code
	}
	switch sub {
	case "plan":
		return migrationsPlan(ctx, conn, pcfg, h, subs, reentrant, asJSON, stdout, stderr)
	case "bootstrap":
		if err := m.Bootstrap(ctx, force); err != nil {
			return fail(err)
		}
	case "up":
		if err := m.Up(ctx, force); err != nil {
			return fail(err)
		}
	case "finish":
		if err := m.Finish(ctx, force); err != nil {
			return fail(err)
		}
	case "list":
		code, err := m.List(ctx)
		if err != nil {
			return fail(err)
		}
		return code
	case "status":
		b, err := m.Status(ctx)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, string(b))
	case "reset":
		st, err := m.State(ctx)
		if err != nil {
			return fail(err)
		}
		if !yes && !st.NeedsBootstrap {
			ok, err := confirm(stdin, stdout)
			if err != nil {
				return fail(err)
			}
			if !ok {
				fmt.Fprintln(out, "cancelled")
				return 0
			}
		}
		code, err := m.Reset(ctx)
		if err != nil {
			return fail(err)
		}
		return code
	default:
		fmt.Fprintf(stderr, "Error: unknown migrations command %q\n\n%s", sub, migrationsUsage)
		return 1
	}
	return 0
}

// confirm asks Kong's reset question up to three times; a stdin that is
// not a terminal is refused as Kong refuses it.
func confirm(stdin io.Reader, stdout io.Writer) (bool, error) {
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			return false, errors.New("not a tty: invoke 'reset' non-interactively with the --yes flag")
		}
	}
	r := bufio.NewReader(stdin)
	for i := 0; i < 3; i++ {
		fmt.Fprint(stdout, "> Are you sure? This operation is irreversible. [y/n] ")
		line, err := r.ReadString('\n')
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
		if err != nil {
			return false, nil
		}
	}
	return false, nil
}

// migrationsDBTimeout parses --db-timeout (seconds; Kong's default 60).
func migrationsDBTimeout(flag string) (time.Duration, error) {
	if flag == "" {
		return 60 * time.Second, nil
	}
	s, err := strconv.ParseFloat(flag, 64)
	if err != nil || s <= 0 {
		return 0, errors.New("--db-timeout must be a number of seconds")
	}
	return time.Duration(s * float64(time.Second)), nil
}
