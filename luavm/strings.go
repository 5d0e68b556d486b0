package luavm

import lua "github.com/yuin/gopher-lua"

// Strings are strings boxed once as Lua values, by their bytes: a value
// asked for again is returned without allocating (a Lua string made from
// Go bytes is otherwise two allocations: the string and its interface
// box). LuaJIT interns every string it makes; a worker's Strings do it for
// the strings Go hands to Lua again and again (cache keys, decoded cache
// values, request header values). The zero value is empty and ready. Not
// safe for concurrent use: one per worker.
type Strings map[string]lua.LValue

// Get is LString(string(b)), boxed once when b is at most maxLen bytes
// long (a longer one is boxed each time). The table is emptied when it
// holds limit strings, so it follows the working set.
func (t *Strings) Get(b []byte, limit, maxLen int) lua.LValue {
	if len(b) > maxLen {
		return lua.LString(string(b))
	}
	if v, ok := (*t)[string(b)]; ok {
		return v
	}
	if *t == nil {
		*t = make(Strings, 64)
	} else if len(*t) >= limit {
		clear(*t)
	}
	s := Canonical(string(b)) // a name's bytes shared with the code (intern.go)
	v := lua.LValue(lua.LString(s))
	(*t)[s] = v
	return v
}
