package proccpu

import "testing"

// CPU spent in a busy loop shows up.
func TestNowAdvances(t *testing.T) {
	t0 := Now()
	x := 0
	for tries := 0; Now() <= t0; tries++ {
		if tries == 10000 {
			t.Fatalf("Now() stayed at %v through 10^10 additions", t0)
		}
		for i := 0; i < 1e6; i++ {
			x += i
		}
	}
	if x < 0 {
		t.Fatal(x)
	}
}
