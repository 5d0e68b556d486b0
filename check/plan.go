package check

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
)

// PlanStep is one step a migrations command would run.
type PlanStep struct {
	Command   string `json:"command"` // bootstrap, up, finish
	Subsystem string `json:"subsystem"`
	Migration string `json:"migration"`
	Step      string `json:"step"`          // up (SQL), up_f, teardown (Lua or built-in)
	SQL       string `json:"sql,omitempty"` // the up SQL, as it will be sent
	// Func locates a Lua step (kong/plugins/x/migrations/001.lua:14), or
	// says it is one of luahost's built-in Go steps.
	Func string `json:"func,omitempty"`
}

// Plan is what `migrations bootstrap`, `up` and `finish` would run on a
// database, in order.
type Plan struct {
	NeedsBootstrap bool       `json:"needs_bootstrap"`
	Steps          []PlanStep `json:"steps"`
}

// Locator names where a Lua step is defined (subsystem, migration,
// step); "" when unknown.
type Locator func(subsystem, migration, step string) string

// PlanMigrations computes the plan from the database's schema_meta,
// without running anything. `up` runs the new migrations' up SQL and
// up_f; `finish` runs the teardowns of the pending migrations and of the
// new ones up leaves pending; a database that needs bootstrapping gets
// every step of every migration.
func PlanMigrations(ctx context.Context, conn *postgres.Connector, subs []*migrations.Subsystem, locate Locator) (*Plan, error) {
	st, err := migrations.LoadState(ctx, conn, subs)
	if err != nil {
		return nil, err
	}
	p := &Plan{NeedsBootstrap: st.NeedsBootstrap}
	add := func(cmd string, l migrations.List, m *migrations.Migration, up, teardown bool) {
		if up && strings.TrimSpace(m.Up) != "" {
			p.Steps = append(p.Steps, PlanStep{Command: cmd, Subsystem: l.Subsystem, Migration: m.Name, Step: "up", SQL: m.Up})
		}
		if up && m.UpFGo != nil {
			p.Steps = append(p.Steps, PlanStep{Command: cmd, Subsystem: l.Subsystem, Migration: m.Name, Step: "up_f", Func: "luahost built-in step (Go)"})
		}
		if up && m.UpF != nil {
			p.Steps = append(p.Steps, PlanStep{Command: cmd, Subsystem: l.Subsystem, Migration: m.Name, Step: "up_f", Func: funcAt(locate, l.Subsystem, m.Name, "up_f", m.UpF.Ref)})
		}
		if teardown && m.TeardownGo != nil {
			p.Steps = append(p.Steps, PlanStep{Command: cmd, Subsystem: l.Subsystem, Migration: m.Name, Step: "teardown", Func: "luahost built-in step (Go)"})
		}
		if teardown && m.Teardown != nil {
			p.Steps = append(p.Steps, PlanStep{Command: cmd, Subsystem: l.Subsystem, Migration: m.Name, Step: "teardown", Func: funcAt(locate, l.Subsystem, m.Name, "teardown", m.Teardown.Ref)})
		}
	}
	if st.NeedsBootstrap {
		for _, s := range subs {
			l := migrations.List{Subsystem: s.Name, Namespace: s.Namespace, Migrations: s.Migrations}
			for _, m := range s.Migrations {
				add("bootstrap", l, m, true, true)
			}
		}
		return p, nil
	}
	for _, l := range st.New {
		for _, m := range l.Migrations {
			add("up", l, m, true, false)
		}
	}
	for _, l := range st.Pending {
		for _, m := range l.Migrations {
			add("finish", l, m, false, true)
		}
	}
	for _, l := range st.New {
		for _, m := range l.Migrations {
			add("finish", l, m, false, true)
		}
	}
	return p, nil
}

func funcAt(locate Locator, sub, mig, step, ref string) string {
	if locate != nil {
		if s := locate(sub, mig, step); s != "" {
			return "Lua function at " + s
		}
	}
	return "Lua function " + ref
}

// WriteText prints the plan, command by command, migration by migration,
// with the SQL indented under its step.
func (p *Plan) WriteText(w io.Writer) {
	headers := map[string]string{
		"bootstrap": "Database needs bootstrapping; 'migrations bootstrap' would run, in order:",
		"up":        "'migrations up' would run, in order:",
		"finish":    "'migrations finish' would then run, in order:",
	}
	if len(p.Steps) == 0 {
		fmt.Fprintln(w, "Database is up to date: 'migrations up' and 'migrations finish' have nothing to run")
		return
	}
	cmds := []string{"bootstrap", "up", "finish"}
	for _, cmd := range cmds {
		var steps []PlanStep
		for _, s := range p.Steps {
			if s.Command == cmd {
				steps = append(steps, s)
			}
		}
		if len(steps) == 0 {
			if cmd == "up" && !p.NeedsBootstrap {
				fmt.Fprintln(w, "'migrations up' has nothing to run")
			}
			if cmd == "finish" && !p.NeedsBootstrap {
				fmt.Fprintln(w, "'migrations finish' has nothing to run")
			}
			continue
		}
		fmt.Fprintln(w, headers[cmd])
		last := ""
		for _, s := range steps {
			if id := s.Subsystem + ": " + s.Migration; id != last {
				fmt.Fprintf(w, "\n%s\n", id)
				last = id
			}
			if s.SQL != "" {
				fmt.Fprintf(w, "  %s (SQL):\n", s.Step)
				for _, line := range strings.Split(trimBlankEdges(s.SQL), "\n") {
					if strings.TrimSpace(line) == "" {
						fmt.Fprintln(w)
						continue
					}
					fmt.Fprintf(w, "    %s\n", line)
				}
				continue
			}
			fmt.Fprintf(w, "  %s: %s\n", s.Step, s.Func)
		}
		fmt.Fprintln(w)
	}
}

// trimBlankEdges drops the blank lines around SQL written inside a Lua
// long string; the lines themselves are printed as they will be sent.
func trimBlankEdges(sql string) string {
	lines := strings.Split(sql, "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// StepLocator locates Lua steps in plugin directories (plugin name ->
// dir): kong/plugins/<name>/migrations/<migration>.lua:<line>.
func StepLocator(dirs map[string]string) Locator {
	return func(sub, mig, step string) string {
		dir, ok := dirs[sub]
		if !ok {
			return ""
		}
		rel := "migrations/" + mig + ".lua"
		f := parseLua(dir, rel)
		if f == nil {
			return ""
		}
		line := f.keyPathLine("postgres", step)
		if line == 0 {
			return ""
		}
		return fmt.Sprintf("kong/plugins/%s/%s:%d", sub, rel, line)
	}
}

// ReentrancyFailure is a migration step that failed the second time.
type ReentrancyFailure struct {
	Subsystem, Migration, Step string
	Err                        string
	FirstRun                   bool // failed already the first time
}

// CheckReentrant runs every migration of subs (core included) on a
// scratch schema of the server cfg names, then runs each again, as `kong
// migrations up --force` or a node that died before recording a
// migration does; it returns the steps that failed.
func CheckReentrant(ctx context.Context, cfg postgres.Config, subs []*migrations.Subsystem, runner migrations.Runner) ([]ReentrancyFailure, error) {
	var out []ReentrancyFailure
	err := Scratch(ctx, cfg, func(conn *postgres.Connector) error {
		for _, s := range subs {
			failed := map[string]bool{}
			if s.Name != "core" { // Scratch has run core once already
				for _, me := range runEach(ctx, conn, runner, s) {
					failed[me.Migration] = true
					out = append(out, ReentrancyFailure{Subsystem: s.Name, Migration: me.Migration, Step: me.Step, Err: me.Msg, FirstRun: true})
				}
			}
			again := &migrations.Subsystem{Name: s.Name, Namespace: s.Namespace}
			for _, m := range s.Migrations {
				if !failed[m.Name] {
					again.Migrations = append(again.Migrations, m)
				}
			}
			for _, me := range runEach(ctx, conn, runner, again) {
				out = append(out, ReentrancyFailure{Subsystem: s.Name, Migration: me.Migration, Step: me.Step, Err: me.Msg})
			}
		}
		return nil
	})
	return out, err
}
