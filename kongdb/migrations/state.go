package migrations

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/luahost/luahost/kongdb/postgres"
)

// State is Kong's schema state (kong/db/migrations/state.lua); nil lists
// are Kong's nil (nothing in that state).
type State struct {
	NeedsBootstrap bool
	Executed       Lists
	Pending        Lists
	Missing        Lists
	New            Lists
}

// IsUpToDate is State:is_up_to_date().
func (s *State) IsUpToDate() bool { return !s.NeedsBootstrap && len(s.New) == 0 }

// IsMigrationExecuted is State:is_migration_executed(subsystem, name).
func (s *State) IsMigrationExecuted(subsystem, name string) bool {
	for _, l := range s.Executed {
		if l.Subsystem != subsystem {
			continue
		}
		for _, m := range l.Migrations {
			if m.Name == name {
				return true
			}
		}
	}
	return false
}

// LoadState reads schema_meta and classifies every migration.
func LoadState(ctx context.Context, c *postgres.Connector, subsystems []*Subsystem) (*State, error) {
	rows, bootstrapped, err := c.SchemaMigrations(ctx)
	if err != nil {
		return nil, fmt.Errorf("[PostgreSQL error] failed to check schema state: %w", err)
	}
	st := &State{NeedsBootstrap: !bootstrapped}
	byName := map[string]postgres.MetaRow{}
	for _, r := range rows {
		byName[r.Subsystem] = r
	}
	for _, sub := range subsystems {
		var executed, pending, missing, fresh []*Migration
		row, ok := byName[sub.Name]
		if !ok {
			fresh = append(fresh, sub.Migrations...)
		} else {
			in := func(list []string, name string) bool {
				for _, n := range list {
					if n == name {
						return true
					}
				}
				return false
			}
			n := 0 // 0 = unset (Kong's nil); else index+1 of last_executed, 1-based +1
			for i, mig := range sub.Migrations {
				idx := i + 1
				if mig.Name == row.LastExecuted {
					n = idx + 1
				}
				switch {
				case in(row.Executed, mig.Name):
					executed = append(executed, mig)
				case in(row.Pending, mig.Name):
					pending = append(pending, mig)
				case n == 0 || idx >= n:
					fresh = append(fresh, mig)
				default:
					missing = append(missing, mig)
				}
			}
		}
		add := func(ls *Lists, ms []*Migration) {
			if len(ms) > 0 {
				*ls = append(*ls, List{Subsystem: sub.Name, Namespace: sub.Namespace, Migrations: ms})
			}
		}
		add(&st.Executed, executed)
		add(&st.Pending, pending)
		add(&st.Missing, missing)
		add(&st.New, fresh)
	}
	return st, nil
}

// MarshalJSON is `kong migrations status`: the state with migration lists
// reduced to names (missing_migrations keeps { name = ... } tables).
func (s *State) MarshalJSON() ([]byte, error) {
	type entry struct {
		Subsystem  string `json:"subsystem"`
		Namespace  string `json:"namespace"`
		Migrations any    `json:"migrations"`
	}
	conv := func(ls Lists, objects bool) []entry {
		if len(ls) == 0 {
			return nil
		}
		out := make([]entry, len(ls))
		for i, l := range ls {
			if objects {
				ms := make([]map[string]string, len(l.Migrations))
				for j, m := range l.Migrations {
					ms[j] = map[string]string{"name": m.Name}
				}
				out[i] = entry{l.Subsystem, l.Namespace, ms}
				continue
			}
			ms := make([]string, len(l.Migrations))
			for j, m := range l.Migrations {
				ms[j] = m.Name
			}
			out[i] = entry{l.Subsystem, l.Namespace, ms}
		}
		return out
	}
	return json.Marshal(struct {
		NeedsBootstrap bool    `json:"needs_bootstrap"`
		Executed       []entry `json:"executed_migrations,omitempty"`
		Pending        []entry `json:"pending_migrations,omitempty"`
		Missing        []entry `json:"missing_migrations,omitempty"`
		New            []entry `json:"new_migrations,omitempty"`
	}{s.NeedsBootstrap, conv(s.Executed, false), conv(s.Pending, false), conv(s.Missing, true), conv(s.New, false)})
}
