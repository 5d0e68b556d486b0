package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/luahost/luahost/check"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
)

// migrationsPlan is `luahost migrations plan [--check-reentrant] [--json]`:
// exit 0, or 1 when the plan cannot be made or a migration is not
// re-entrant.
func migrationsPlan(ctx context.Context, conn *postgres.Connector, cfg postgres.Config, h *host.Host,
	subs []*migrations.Subsystem, reentrant, asJSON bool, stdout, stderr io.Writer) int {
	dirs := map[string]string{}
	for _, p := range h.Plugins {
		dirs[p.Name] = p.Dir
	}
	plan, err := check.PlanMigrations(ctx, conn, subs, check.StepLocator(dirs))
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	var fails []check.ReentrancyFailure
	if reentrant {
		if fails, err = check.CheckReentrant(ctx, cfg, subs, h); err != nil {
			fmt.Fprintln(stderr, "Error:", err)
			return 1
		}
	}
	if asJSON {
		out := struct {
			*check.Plan
			Reentrancy []check.ReentrancyFailure `json:"reentrancy_failures,omitempty"`
		}{plan, fails}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		plan.WriteText(stdout)
		if reentrant {
			if len(fails) == 0 {
				fmt.Fprintln(stdout, "Re-entrancy: every migration ran twice on a scratch schema without error")
			} else {
				fmt.Fprintln(stdout, "Re-entrancy: these steps fail when run again (kong migrations up --force, or a node that died before recording them):")
				for _, f := range fails {
					when := "second run"
					if f.FirstRun {
						when = "first run"
					}
					fmt.Fprintf(stdout, "  %s: %s %s (%s): %s\n", f.Subsystem, f.Migration, f.Step, when, f.Err)
				}
			}
		}
	}
	if len(fails) > 0 {
		return 1
	}
	return 0
}
