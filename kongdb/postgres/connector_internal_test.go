package postgres

import "testing"

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
