package check

import (
	"testing"

	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// The project's example plugins come out clean but for one real finding:
// token-auth's migration gives token_credentials a tags column and no
// sync_tags trigger, so its credentials never show under /tags (Kong's
// key-auth installs the trigger). apikey-0x and apikey-2x are written for
// Kong 0.x and 2.x on purpose: Kong 3 would refuse them, as check says.
func TestExamplePlugins(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	current := []string{"response-stamp", "token-auth"}
	rep := runCheck(t, Options{Conf: confFor("../plugins"), Plugins: current, PG: &cfg})
	assertFindings(t, rep, nil)
	if rep.ExitCode() != 0 {
		t.Errorf("exit code %d, want 0 (clean)", rep.ExitCode())
	}
	rep = runCheck(t, Options{Conf: confFor("../plugins"), Plugins: current})
	assertFindings(t, rep, nil)
}

// A clean plugin exits 0 with and without a database.
func TestCleanPlugin(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	for _, pg := range []bool{false, true} {
		o := Options{Conf: confFor("testdata/clean")}
		if pg {
			o.PG = &cfg
		}
		rep := runCheck(t, o)
		assertFindings(t, rep, nil)
		if rep.ExitCode() != 0 {
			t.Errorf("pg=%v: exit code %d", pg, rep.ExitCode())
		}
	}
}
