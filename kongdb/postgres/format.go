package postgres

import (
	"fmt"
	"math"
	"strconv"

	"github.com/luahost/luahost/kongdb/schema"
)

// formatNumber prints a number as Lua's tostring does (%.14g).
func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

func isNull(v any) bool { return schema.IsNull(v) }

func toString(v any) string { return fmt.Sprint(v) }
