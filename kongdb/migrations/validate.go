package migrations

import (
	"fmt"

	"github.com/luahost/luahost/kongdb"
)

// Kong's messages for migration modules that cannot be used (state.lua);
// the host calls these while building Subsystems from Lua modules.

// ErrIndexNotTable: the migrations index module did not return a table.
func ErrIndexNotTable(namespace string) error {
	return fmt.Errorf("[PostgreSQL error] migrations index from '%s' must be a table", namespace)
}

// ErrFailedToLoad: a migration module named by the index failed to load.
func ErrFailedToLoad(module, subsystem string) error {
	return fmt.Errorf("[PostgreSQL error] failed to load migration '%s' of '%s' subsystem", module, subsystem)
}

// ErrInvalid: the module failed Kong's migration schema; errs is the
// schema error table (field -> message, "@entity" -> messages).
func ErrInvalid(module, subsystem string, errs map[string]any) error {
	e := kongdb.Errors{}.SchemaViolation(errs)
	return fmt.Errorf("[PostgreSQL error] migration '%s' of '%s' subsystem is invalid: %s", module, subsystem, e.Error())
}

// Check applies the migration schema's entity check (3.x): at least one of
// postgres.up, postgres.up_f, postgres.teardown must be non-empty. It
// returns the schema error table, or nil.
func (m *Migration) Check() map[string]any {
	if m.Up != "" || m.UpF != nil || m.UpFGo != nil || m.HasTeardown() {
		return nil
	}
	return map[string]any{"@entity": []any{
		"at least one of these fields must be non-empty: 'postgres.up', 'postgres.up_f', 'postgres.teardown'"}}
}
