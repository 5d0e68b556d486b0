package main

import (
	"testing"
	"time"
)

// Kong's `kong migrations --db-timeout` defaults to 60 s; luahost used
// pg_timeout's 5 s, so a 6 s migration statement failed.
func TestMigrationsDBTimeout(t *testing.T) {
	for flag, want := range map[string]time.Duration{"": 60 * time.Second, "6": 6 * time.Second, "0.5": 500 * time.Millisecond} {
		if got, err := migrationsDBTimeout(flag); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", flag, got, err, want)
		}
	}
	for _, bad := range []string{"abc", "-1", "0"} {
		if _, err := migrationsDBTimeout(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
