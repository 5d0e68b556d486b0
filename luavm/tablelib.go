package luavm

import (
	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1's table.insert, remove, maxn, sort, getn, setn, foreach and
// foreachi (table.concat is open.go's).

func openTableFixes(L *lua.LState, t *lua.LTable) {
	for name, fn := range map[string]lua.LGFunction{
		"insert":   tableInsert,
		"remove":   tableRemove,
		"maxn":     tableMaxn,
		"sort":     tableSort,
		"getn":     tableGetn,
		"setn":     tableSetn,
		"foreach":  tableForeach,
		"foreachi": tableForeachi,
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
}

// rawGetN and rawSetN index t by any integer (0 and negatives included).
func rawGetN(t *lua.LTable, i int) lua.LValue { return t.RawGet(lua.LNumber(i)) }

func rawSetN(t *lua.LTable, i int, v lua.LValue) { t.RawSet(lua.LNumber(i), v) }

// tableInsert is table.insert(t, [pos,] v): elements from pos up move one
// place; a pos past the end grows the range up to it.
func tableInsert(L *lua.LState) int {
	t := checkTable(L, 1)
	e := t.Len() + 1
	var pos int
	switch L.GetTop() {
	case 2:
		pos = e
	case 3:
		pos = checkInt(L, 2)
		if pos > e {
			e = pos
		}
		for i := e; i > pos; i-- {
			rawSetN(t, i, rawGetN(t, i-1))
		}
	default:
		raise(L, "wrong number of arguments to 'insert'")
	}
	rawSetN(t, pos, L.Get(L.GetTop()))
	return 0
}

// tableRemove is table.remove(t [, pos]): nothing outside 1..#t.
func tableRemove(L *lua.LState) int {
	t := checkTable(L, 1)
	e := t.Len()
	pos := optInt(L, 2, e)
	if pos < 1 || pos > e {
		return 0
	}
	v := rawGetN(t, pos)
	for ; pos < e; pos++ {
		rawSetN(t, pos, rawGetN(t, pos+1))
	}
	rawSetN(t, e, lua.LNil)
	L.Push(v)
	return 1
}

// tableMaxn is table.maxn(t): the largest positive numeric key, 0 if none.
func tableMaxn(L *lua.LState) int {
	t := checkTable(L, 1)
	max := 0.0
	t.ForEach(func(k, _ lua.LValue) {
		if n, ok := k.(lua.LNumber); ok && float64(n) > max {
			max = float64(n)
		}
	})
	L.Push(lua.LNumber(max))
	return 1
}

func tableGetn(L *lua.LState) int {
	L.Push(lua.LNumber(checkTable(L, 1).Len()))
	return 1
}

func tableSetn(L *lua.LState) int {
	checkTable(L, 1)
	raise(L, "'setn' is obsolete")
	return 0
}

// tableForeach is table.foreach(t, f): f(k, v) for each pair until one
// returns a non-nil value, which is returned.
func tableForeach(L *lua.LState) int {
	t := checkTable(L, 1)
	f := checkFunction(L, 2)
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		L.Push(f)
		L.Push(k)
		L.Push(v)
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

// tableForeachi is table.foreachi(t, f): f(i, t[i]) for i = 1, #t.
func tableForeachi(L *lua.LState) int {
	t := checkTable(L, 1)
	f := checkFunction(L, 2)
	n := t.Len()
	for i := 1; i <= n; i++ {
		L.Push(f)
		L.Push(lua.LNumber(i))
		L.Push(rawGetN(t, i))
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

func checkFunction(L *lua.LState, n int) *lua.LFunction {
	f, ok := L.Get(n).(*lua.LFunction)
	if !ok {
		typeError(L, n, "function")
	}
	return f
}

// tableSort is table.sort(t [, comp]): an in-place quicksort over
// t[1..#t] that, like Lua 5.1's, detects a comparator that is not a
// strict order when a scan runs past its sentinel ("invalid order
// function for sorting"). Equal elements may end in another order than
// Lua 5.1's (neither is stable).
func tableSort(L *lua.LState) int {
	t := checkTable(L, 1)
	n := t.Len()
	var comp lua.LValue = lua.LNil
	if L.Get(2) != lua.LNil {
		comp = checkFunction(L, 2)
	}
	s := &sorter{L: L, t: t, comp: comp}
	s.sort(1, n)
	return 0
}

type sorter struct {
	L    *lua.LState
	t    *lua.LTable
	comp lua.LValue
}

func (s *sorter) get(i int) lua.LValue { return s.t.RawGetInt(i) }

func (s *sorter) set(i int, v lua.LValue) { s.t.RawSetInt(i, v) }

func (s *sorter) swap(i, j int) {
	a, b := s.get(i), s.get(j)
	s.set(i, b)
	s.set(j, a)
}

// less is comp(a, b), or a < b as Lua 5.1's sort compares.
func (s *sorter) less(a, b lua.LValue) bool {
	if s.comp == lua.LNil {
		return lessThan(s.L, a, b)
	}
	L := s.L
	L.Push(s.comp)
	L.Push(a)
	L.Push(b)
	L.Call(2, 1)
	r := lua.LVAsBool(L.Get(-1))
	L.Pop(1)
	return r
}

func (s *sorter) invalid() {
	raise(s.L, "invalid order function for sorting")
}

func (s *sorter) sort(lo, hi int) {
	for lo < hi {
		// order t[lo], t[mid], t[hi]: the ends become the sentinels of
		// the partition scans
		if s.less(s.get(hi), s.get(lo)) {
			s.swap(lo, hi)
		}
		if hi-lo == 1 {
			return
		}
		mid := lo + (hi-lo)/2
		if s.less(s.get(mid), s.get(lo)) {
			s.swap(mid, lo)
		} else if s.less(s.get(hi), s.get(mid)) {
			s.swap(mid, hi)
		}
		if hi-lo == 2 {
			return
		}
		pivot := s.get(mid)
		s.swap(mid, hi-1)
		i, j := lo, hi-1
		for {
			for i++; s.less(s.get(i), pivot); i++ {
				if i >= hi {
					s.invalid()
				}
			}
			for j--; s.less(pivot, s.get(j)); j-- {
				if j <= lo {
					s.invalid()
				}
			}
			if j < i {
				break
			}
			s.swap(i, j)
		}
		s.swap(hi-1, i)
		// recurse into the smaller part, loop on the larger
		if i-lo < hi-i {
			s.sort(lo, i-1)
			lo = i + 1
		} else {
			s.sort(i+1, hi)
			hi = i - 1
		}
	}
}

// lessThan is Lua 5.1's a < b for sort: numbers, strings, else the __lt
// both operands share; errors are raised without a position, as from a C
// function.
func lessThan(L *lua.LState, a, b lua.LValue) bool {
	switch av := a.(type) {
	case lua.LNumber:
		if bv, ok := b.(lua.LNumber); ok {
			return av < bv
		}
	case lua.LString:
		if bv, ok := b.(lua.LString); ok {
			return av < bv
		}
	}
	if a.Type() == b.Type() {
		h := L.GetMetaField(a, "__lt")
		if h != lua.LNil && h == L.GetMetaField(b, "__lt") {
			L.Push(h)
			L.Push(a)
			L.Push(b)
			L.Call(2, 1)
			r := lua.LVAsBool(L.Get(-1))
			L.Pop(1)
			return r
		}
		raiseNoPos(L, "attempt to compare two "+a.Type().String()+" values")
	}
	raiseNoPos(L, "attempt to compare "+a.Type().String()+" with "+b.Type().String())
	return false
}
