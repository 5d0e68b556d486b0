package pdk

import (
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// kongLogLevels are kong.log's functions and their nginx levels.
var kongLogLevels = map[string]int{
	"debug": LogDebug, "info": LogInfo, "notice": LogNotice, "warn": LogWarn,
	"err": LogErr, "crit": LogCrit, "alert": LogAlert, "emerg": LogEmerg,
}

// newKongLog builds kong.log: kong.log.<level>(...) and kong.log(...)
// (notice) write "[kong] <file>:<line> [<plugin>] <args>" (the "[<plugin>] "
// part only while a plugin runs, Instance.PluginName), every argument
// through tostring, as Kong's kong/pdk/log.lua; plus inspect,
// set_serialize_value and serialize.
func (in *Instance) newKongLog() *lua.LTable {
	L := in.L
	t := L.NewTable()
	for name, lvl := range kongLogLevels {
		t.RawSetString(name, L.NewFunction(in.kongLogFunc(lvl, 1)))
	}
	mt := L.NewTable()
	notice := in.kongLogFunc(LogNotice, 1)
	mt.RawSetString("__call", L.NewFunction(func(L *lua.LState) int {
		L.Remove(1) // the kong.log table itself
		return notice(L)
	}))
	t.Metatable = mt
	t.RawSetString("inspect", in.newKongInspect())
	t.RawSetString("set_serialize_value", L.NewFunction(in.setSerializeValue))
	t.RawSetString("serialize", L.NewFunction(func(L *lua.LState) int {
		out := L.NewTable()
		in.ApplySerializeValues(out)
		L.Push(out)
		return 1
	}))
	return t
}

// kongLogPrefix writes "[kong] <file>:<line> " and the plugin namespace.
func (in *Instance) kongLogPrefix(b *strings.Builder, L *lua.LState, level int) {
	file, line, _ := callerWhere(L, level)
	b.WriteString("[kong] ")
	b.WriteString(file)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(line))
	b.WriteByte(' ')
	if in.PluginName != "" {
		b.WriteByte('[')
		b.WriteString(in.PluginName)
		b.WriteString("] ")
	}
}

func (in *Instance) kongLogFunc(lvl int, stackLevel int) lua.LGFunction {
	return func(L *lua.LState) int {
		if !in.Root.LogEnabled(lvl) {
			return 0
		}
		var b strings.Builder
		in.kongLogPrefix(&b, L, stackLevel)
		for i := 1; i <= L.GetTop(); i++ {
			b.WriteString(luavm.TostringValue(L, L.Get(i)).String())
		}
		in.Log(lvl, b.String())
		return 0
	}
}

// newKongInspect is kong.log.inspect(...): at notice, the arguments
// pretty-printed (a subset of inspect.lua's layout) inside Kong's 120-column
// box; kong.log.inspect.on()/off() toggle it.
func (in *Instance) newKongInspect() *lua.LTable {
	L := in.L
	enabled := true
	t := L.NewTable()
	t.RawSetString("on", L.NewFunction(func(L *lua.LState) int { enabled = true; return 0 }))
	t.RawSetString("off", L.NewFunction(func(L *lua.LState) int { enabled = false; return 0 }))
	mt := L.NewTable()
	mt.RawSetString("__call", L.NewFunction(func(L *lua.LState) int {
		if !enabled || !in.Root.LogEnabled(LogNotice) {
			return 0
		}
		file, line, fname := callerWhere(L, 1)
		if fname == "" {
			fname = "?"
		}
		header := "[kong] " + file + ":" + fname + ":" + strconv.Itoa(line) + " [" + in.PluginName + "]"
		parts := make([]string, 0, L.GetTop()-1)
		for i := 2; i <= L.GetTop(); i++ {
			parts = append(parts, Inspect(L.Get(i)))
		}
		for _, ln := range inspectBox(header, strings.Join(parts, " ")) {
			in.Log(LogNotice, ln)
		}
		return 0
	}))
	t.Metatable = mt
	return t
}

// inspectBox lays out an inspect message as Kong does: the header padded
// with dashes, each line of the message (cut at 120 columns) between "|",
// and a closing rule.
func inspectBox(header, msg string) []string {
	const wrap = 120
	pad := wrap + 1 - len(header)
	if pad < 0 {
		pad = 0
	}
	out := []string{header + strings.Repeat("-", pad) + "+"}
	for _, ln := range strings.Split(msg, "\n") {
		for {
			part := ln
			if len(part) > wrap {
				part = ln[:wrap]
			}
			out = append(out, "|"+part+strings.Repeat(" ", wrap-len(part))+"|")
			ln = ln[len(part):]
			if ln == "" {
				break
			}
		}
	}
	return append(out, "+"+strings.Repeat("-", wrap)+"+")
}

// Inspect renders v in the spirit of inspect.lua: strings quoted, array
// items first, then keys sorted, nested tables indented by two spaces.
// A table reached twice by different paths prints twice (only cycles are
// cut), so a table of 40 levels of {t, t} would print 2^40 times: the text
// stops at inspectMaxLen.
func Inspect(v lua.LValue) string {
	var b strings.Builder
	inspectValue(&b, v, 0, map[*lua.LTable]bool{})
	if b.Len() > inspectMaxLen {
		return b.String()[:inspectMaxLen] + " ...(truncated)"
	}
	return b.String()
}

// inspectMaxLen bounds Inspect's text.
const inspectMaxLen = 1 << 20

func inspectValue(b *strings.Builder, v lua.LValue, depth int, seen map[*lua.LTable]bool) {
	if b.Len() > inspectMaxLen {
		return
	}
	switch x := v.(type) {
	case lua.LString:
		b.WriteString(strconv.Quote(string(x)))
	case *lua.LTable:
		if seen[x] {
			b.WriteString("<cycle>")
			return
		}
		seen[x] = true
		defer delete(seen, x)
		n := x.Len()
		var keys []lua.LValue
		x.ForEach(func(k, _ lua.LValue) {
			if kn, ok := k.(lua.LNumber); ok && float64(kn) >= 1 && float64(kn) <= float64(n) && float64(kn) == float64(int(kn)) {
				return
			}
			keys = append(keys, k)
		})
		if n == 0 && len(keys) == 0 {
			b.WriteString("{}")
			return
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		b.WriteString("{")
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteString(",")
			}
			b.WriteString(" ")
			inspectValue(b, x.RawGetInt(i), depth+1, seen)
		}
		ind := strings.Repeat("  ", depth+1)
		for i, k := range keys {
			if i > 0 || n > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n" + ind)
			if s, ok := k.(lua.LString); ok && isIdent(string(s)) {
				b.WriteString(string(s))
			} else {
				b.WriteString("[")
				inspectValue(b, k, depth+1, seen)
				b.WriteString("]")
			}
			b.WriteString(" = ")
			inspectValue(b, x.RawGet(k), depth+1, seen)
		}
		if len(keys) > 0 {
			b.WriteString("\n" + strings.Repeat("  ", depth) + "}")
		} else {
			b.WriteString(" }")
		}
	case *lua.LUserData:
		if bind.IsNull(x) {
			b.WriteString("userdata: NULL")
		} else {
			b.WriteString("<userdata>")
		}
	case *lua.LFunction:
		b.WriteString("<function>")
	default:
		b.WriteString(v.String())
	}
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// setSerializeValue is kong.log.set_serialize_value(key, value, opts?):
// records key (dotted path) = value with mode "set" (default), "add" (only
// when absent) or "replace" (only when present), applied when the log
// serializer runs (ApplySerializeValues).
func (in *Instance) setSerializeValue(L *lua.LState) int {
	key, ok := L.Get(1).(lua.LString)
	if !ok {
		bind.RaiseAtCaller(L, "key must be a string")
	}
	mode := lua.LString("set")
	if opts, ok := L.Get(3).(*lua.LTable); ok {
		if m := opts.RawGetString("mode"); m != lua.LNil {
			mode, _ = m.(lua.LString)
		}
	}
	if mode != "set" && mode != "add" && mode != "replace" {
		bind.RaiseAtCaller(L, "mode must be 'set', 'add' or 'replace'")
	}
	val := L.Get(2)
	budget := bind.MaxValues // a table shared 2^40 ways is refused, not walked
	if !serializableValue(val, map[*lua.LTable]bool{}, &budget) {
		bind.RaiseAtCaller(L, "value must be a number, string, boolean or a non-self-referencial table containing numbers, string and booleans")
	}
	list := in.ctxTable(in.ctxKeys.serialize)
	rec := L.CreateTable(0, 3)
	rec.RawSetString("key", key)
	rec.RawSetString("value", val)
	rec.RawSetString("mode", mode)
	list.Append(rec)
	return 0
}

func serializableValue(v lua.LValue, seen map[*lua.LTable]bool, budget *int) bool {
	if *budget--; *budget < 0 {
		return false
	}
	switch x := v.(type) {
	case *lua.LNilType, lua.LNumber, lua.LString, lua.LBool:
		return true
	case *lua.LTable:
		if seen[x] {
			return false
		}
		seen[x] = true
		ok := true
		x.ForEach(func(k, v lua.LValue) {
			if ok && (!serializableValue(k, seen, budget) || !serializableValue(v, seen, budget)) {
				ok = false
			}
		})
		delete(seen, x)
		return ok
	}
	return false
}

// ApplySerializeValues applies the request's kong.log.set_serialize_value
// calls, in order, onto t (the log serializer's output).
func (in *Instance) ApplySerializeValues(t *lua.LTable) {
	list, ok := in.CurrentCtx().RawGet(in.ctxKeys.serialize).(*lua.LTable)
	if !ok {
		return
	}
	for i := 1; i <= list.Len(); i++ {
		rec, _ := list.RawGetInt(i).(*lua.LTable)
		if rec == nil {
			continue
		}
		path := strings.Split(string(rec.RawGetString("key").(lua.LString)), ".")
		mode := rec.RawGetString("mode").String()
		cur := t
		for _, p := range path[:len(path)-1] {
			next, ok := cur.RawGetString(p).(*lua.LTable)
			if !ok {
				next = in.L.NewTable()
				cur.RawSetString(p, next)
			}
			cur = next
		}
		last := path[len(path)-1]
		exists := cur.RawGetString(last) != lua.LNil
		if (mode == "add" && exists) || (mode == "replace" && !exists) {
			continue
		}
		cur.RawSetString(last, rec.RawGetString("value"))
	}
}
