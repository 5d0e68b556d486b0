package migrations

import "testing"

func TestMigrationCheckMessage(t *testing.T) {
	m := &Migration{Name: "000_base_x", Up: ""}
	errs := m.Check()
	if errs == nil {
		t.Fatal("empty migration accepted")
	}
	err := ErrInvalid("kong.plugins.x.migrations.000_base_x", "x", errs)
	want := "[PostgreSQL error] migration 'kong.plugins.x.migrations.000_base_x' of 'x' subsystem is invalid: " +
		"schema violation (at least one of these fields must be non-empty: 'postgres.up', 'postgres.up_f', 'postgres.teardown')"
	if err.Error() != want {
		t.Fatalf("got  %s\nwant %s", err, want)
	}
	if (&Migration{Name: "a", Up: "SELECT 1"}).Check() != nil {
		t.Fatal("valid migration rejected")
	}
}
