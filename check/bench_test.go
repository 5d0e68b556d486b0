package check

import (
	"testing"

	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// BenchmarkCheckTenEntities is `luahost check` on a plugin with ten
// entities (testdata/bench/tenents), database checks included: a scratch
// schema created, core bootstrapped, the plugin's migrations run twice,
// the tables diffed, the schema dropped. Budget: under 1 s per run.
func BenchmarkCheckTenEntities(b *testing.B) {
	cfg := pgtest.NewDatabase(b)
	o := Options{Conf: confFor("testdata/bench"), PG: &cfg}
	for i := 0; i < b.N; i++ {
		if rep := runCheck(b, o); len(rep.Findings) != 0 {
			b.Fatalf("the ten-entity plugin is clean: %v", rep.Findings)
		}
	}
}

// BenchmarkCheckTenEntitiesNoDB is the same without a database (lints).
func BenchmarkCheckTenEntitiesNoDB(b *testing.B) {
	o := Options{Conf: confFor("testdata/bench")}
	for i := 0; i < b.N; i++ {
		if rep := runCheck(b, o); len(rep.Findings) != 0 {
			b.Fatalf("the ten-entity plugin is clean: %v", rep.Findings)
		}
	}
}
