package postgres

import (
	"math"
	"testing"

	"github.com/luahost/luahost/kongdb/schema"
)

// A BIGINT parameter outside int64 is an error, never a wrapped value
// (Go's int64(1e19) is -9223372036854775808 on amd64).
func TestBindIntegerRange(t *testing.T) {
	c := &column{name: "n", field: &schema.Field{Name: "n", Type: schema.TypeInteger}, kind: kInteger}
	for _, f := range []float64{1e19, math.Ldexp(1, 63), 1e308, math.Inf(1), math.Inf(-1), math.NaN()} {
		if v, err := bindValue(c, f); err == nil {
			t.Errorf("%v bound as %v", f, v)
		}
	}
	for _, f := range []float64{-math.Ldexp(1, 63), math.Ldexp(1, 62), 42} {
		v, err := bindValue(c, f)
		if err != nil || v != int64(f) {
			t.Errorf("%v: %v %v", f, v, err)
		}
	}
}
