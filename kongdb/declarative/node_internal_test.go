package declarative

import "testing"

// Numbers are written as Kong's %.14g writes them: whole numbers as
// integers, fractions as plain decimals in the usual range.
func TestNodeNumbers(t *testing.T) {
	for in, want := range map[float64]string{
		1796436710.03: "1796436710.03",
		0.5:           "0.5",
		42:            "42",
		1e20:          "1e+20",
		1.5e-7:        "1.5e-07",
	} {
		if got := node(in).Value; got != want {
			t.Errorf("node(%v) = %q, want %q", in, got, want)
		}
	}
}
