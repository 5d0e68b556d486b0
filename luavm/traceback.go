package luavm

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Traceback is a traceback of L's stack from level on, bounded as Lua 5.1's
// debug.traceback is: the first 12 levels, "...", the last 10. gopher-lua's
// own (stackTrace) writes one line per tail call before truncating: after
// a runaway tail recursion stopped by the deadline it built hundreds of MB
// and ran several times past the deadline. Levels are found with GetStack,
// which skips tail calls arithmetically, and the depth by doubling and
// bisection, so the cost is bounded by the number of real frames.
func Traceback(L *lua.LState, level int) string {
	const first, last = 12, 10
	var b strings.Builder
	b.WriteString("stack traceback:")
	depth := stackDepth(L, level)
	for l := level; l < depth; l++ {
		if l == level+first && depth-l > last {
			b.WriteString("\n\t...")
			l = depth - last - 1
			continue
		}
		dbg, ok := L.GetStack(l)
		if !ok {
			break
		}
		b.WriteString("\n\t")
		b.WriteString(frameLine(L, dbg))
	}
	return b.String()
}

// stackDepth is the first level past from that GetStack has no frame for.
func stackDepth(L *lua.LState, from int) int {
	has := func(l int) bool { _, ok := L.GetStack(l); return ok }
	if !has(from) {
		return from
	}
	lo, hi := from, from+1 // has(lo), hi unknown
	for has(hi) {
		lo, hi = hi, from+2*(hi-from)+1
	}
	for hi-lo > 1 { // has(lo), !has(hi)
		mid := lo + (hi-lo)/2
		if has(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

func frameLine(L *lua.LState, dbg *lua.Debug) string {
	if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
		return "?"
	}
	if dbg.What == "G" {
		if dbg.Name != "" && dbg.Name != "?" {
			return fmt.Sprintf("[G]: in function '%s'", dbg.Name)
		}
		return "[G]: ?"
	}
	where := fmt.Sprintf("%s:%d:", dbg.Source, dbg.CurrentLine)
	switch {
	case dbg.What == "main":
		return where + " in main chunk"
	case dbg.Name != "" && dbg.Name != "?" && !strings.HasPrefix(dbg.Name, "<"):
		return fmt.Sprintf("%s in function '%s'", where, dbg.Name)
	}
	return fmt.Sprintf("%s in function <%s:%d>", where, dbg.Source, dbg.LineDefined)
}
