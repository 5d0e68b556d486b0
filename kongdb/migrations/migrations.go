// Package migrations runs Kong-style database migrations on the postgres
// connector: Kong's schema_meta bookkeeping, state computation, the locks
// table and cluster mutex, and the `kong migrations` commands (bootstrap,
// up, finish, list, status, reset) with Kong's messages and exit codes.
// Lua steps (up_f, teardown) run through a Runner the host supplies; this
// package must not depend on gopher-lua.
package migrations

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
)

// Migration is one migration module ({ postgres = { up, up_f, teardown } }).
type Migration struct {
	Name string
	Up   string // SQL run in a transaction; "" = none
	// UpF and Teardown are Lua functions, called through the Runner.
	UpF, Teardown *schema.Func
	// UpFGo and TeardownGo are Go steps (luahost's own migrations).
	UpFGo, TeardownGo func(ctx context.Context, c *postgres.Connector) error

	// Legacy marks a Kong 0.x migration (migrations/postgres.lua): its Lua
	// up_f is 0.x's up function (called through a LegacyRunner) and its
	// Down / DownF run on `migrations reset`, newest first.
	Legacy bool
	Down   string
	DownF  *schema.Func
}

// HasTeardown reports whether the migration has a teardown step (which
// leaves it "pending" after up).
func (m *Migration) HasTeardown() bool { return m.Teardown != nil || m.TeardownGo != nil }

// Subsystem is "core" or one plugin's migrations, in index order.
type Subsystem struct {
	Name       string
	Namespace  string // kong.db.migrations.core / kong.plugins.<name>.migrations
	Migrations []*Migration
}

// Runner calls a Lua migration function with the connector (the host
// implements it; Kong's convention: failure if it throws or returns a
// truthy second value).
type Runner interface {
	CallMigrationFunc(ctx context.Context, fn *schema.Func, conn *postgres.Connector) error
}

// LegacyRunner calls a Kong 0.x migration function, up or down
// (function(db, kong_config, dao_factory), failing when it throws or
// returns an error), with the connector.
type LegacyRunner interface {
	CallLegacyMigrationFunc(ctx context.Context, fn *schema.Func, conn *postgres.Connector) error
}

// NeedsBootstrapMsg is Kong's NEEDS_BOOTSTRAP_MSG.
const NeedsBootstrapMsg = "Database needs bootstrapping or is older than Kong 1.0.\n\n" +
	"To start a new installation from scratch, run 'kong migrations bootstrap'.\n\n" +
	"To migrate from a version older than 1.0, migrated to Kong 1.5.0 first. \n" +
	"If you still have 'apis' entities, you can convert them to Routes and Services\n" +
	"using the 'kong migrations migrate-apis' command in Kong 1.5.0.\n\n"

// NotLeaderMsg is logged when another node holds the migrations mutex.
const NotLeaderMsg = "aborted: another node is performing database changes"

// MutexKey is the cluster mutex key of migrations.
const MutexKey = "migrations"

// Migrator runs the migration commands for a set of subsystems.
type Migrator struct {
	Conn       *postgres.Connector
	Subsystems []*Subsystem // core first, then plugins sorted by name
	Runner     Runner       // for Lua up_f/teardown; may be nil if none
	Out        io.Writer    // progress lines (Kong's log); nil = discard
	// LockTimeout is --lock-timeout (cluster mutex ttl), default 60 s.
	LockTimeout time.Duration
	// Owner identifies this node in the locks table.
	Owner string
}

func (m *Migrator) logf(format string, args ...any) {
	if m.Out == nil {
		return
	}
	fmt.Fprintf(m.Out, format+"\n", args...)
}

// Error is a failed command: Kong's message and the CLI exit code.
type Error struct {
	Msg  string
	Code int
	// Subsystem, Migration and SQLState identify a failed migration step.
	Subsystem, Migration, Step, SQLState string
	Err                                  error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

func errorf(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Code: 1}
}

// List is the migrations of one subsystem in one state.
type List struct {
	Subsystem  string
	Namespace  string
	Migrations []*Migration
}

// Lists is a state's list, printed like Kong ("<subsystem>: a, b" lines,
// subsystem names right-aligned).
type Lists []List

func (ls Lists) String() string {
	w := 0
	for _, l := range ls {
		if len(l.Subsystem) > w {
			w = len(l.Subsystem)
		}
	}
	lines := make([]string, len(ls))
	for i, l := range ls {
		names := make([]string, len(l.Migrations))
		for j, m := range l.Migrations {
			names[j] = m.Name
		}
		lines[i] = fmt.Sprintf("%*s: %s", w, l.Subsystem, strings.Join(names, ", "))
	}
	return strings.Join(lines, "\n")
}
