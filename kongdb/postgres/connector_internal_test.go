package postgres

import (
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
)

func TestVersionCheck(t *testing.T) {
	if err := checkVersion(90424); err == nil || err.Error() != "Kong requires postgres 9.5 or greater (currently using 9.4.24)" {
		t.Fatalf("9.4: %v", err)
	}
	if err := checkVersion(90500); err != nil {
		t.Fatal(err)
	}
	if mv, mm := versionOf(150020); mv != 15 || mm != "15.20" {
		t.Fatal(mv, mm)
	}
	if mv, mm := versionOf(90624); mv != 9.6 || mm != "9.6.24" {
		t.Fatal(mv, mm)
	}
}

func TestFromConf(t *testing.T) {
	c := conf.New()
	c.LoadEnv([]string{"KONG_PG_HOST=db", "KONG_PG_PORT=6543", "KONG_PG_TIMEOUT=2500", "KONG_PG_SCHEMA=kong",
		"KONG_PG_RO_HOST=replica", "KONG_PG_RO_USER=reader"})
	cfg := FromConf(c)
	if cfg.Host != "db" || cfg.Port != 6543 || cfg.Timeout != 2500*time.Millisecond || cfg.Schema != "kong" ||
		cfg.User != "kong" || cfg.Database != "kong" {
		t.Fatalf("%+v", cfg)
	}
	ro := cfg.ReadOnly
	if ro == nil || ro.Host != "replica" || ro.User != "reader" || ro.Port != 6543 || ro.Database != "kong" || ro.Schema != "kong" {
		t.Fatalf("ro %+v", ro)
	}
	if FromConf(conf.New()).ReadOnly != nil {
		t.Fatal("replica without pg_ro_host")
	}
}
