package migrations

import (
	"context"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// kongCoreNames is kong/db/migrations/core/init.lua at Kong 3.10.
var kongCoreNames = []string{"000_base", "003_100_to_110", "004_110_to_120", "005_120_to_130",
	"006_130_to_140", "007_140_to_150", "008_150_to_200", "009_200_to_210", "010_210_to_211",
	"011_212_to_213", "012_213_to_220", "013_220_to_230", "014_230_to_270", "015_270_to_280",
	"016_280_to_300", "017_300_to_310", "018_310_to_320", "019_320_to_330", "020_330_to_340",
	"021_340_to_350", "022_350_to_360", "023_360_to_370", "024_380_to_390", "025_390_to_3100"}

func TestCoreCarriesKongNamesInOrder(t *testing.T) {
	var got []string
	for _, m := range Core().Migrations {
		got = append(got, m.Name)
	}
	if strings.Join(got, ",") != strings.Join(kongCoreNames, ",") {
		t.Fatalf("core names\n%v\nwant\n%v", got, kongCoreNames)
	}
}

// A schema_meta written by Kong 3.10's bootstrap reads as up to date.
func TestKongBootstrappedMetaIsUpToDate(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	if err := c.SchemaBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	mustQuery(t, c, `INSERT INTO schema_meta (key, subsystem, last_executed, executed, pending) VALUES
		('schema_meta', 'core', '025_390_to_3100', '{`+strings.Join(kongCoreNames, ",")+`}', '{}')`)
	m, out := newMigrator(t, c)
	st, err := m.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsUpToDate() || len(st.Pending) != 0 || len(st.Missing) != 0 || len(st.Executed[0].Migrations) != 24 {
		t.Fatalf("state %+v", st)
	}
	if err := m.Up(ctx, false); err != nil || out.String() != "Database is already up-to-date\n" {
		t.Fatalf("up: %v %q", err, out)
	}
}
