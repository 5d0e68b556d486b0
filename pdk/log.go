package pdk

import (
	"os"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// kongLogLevels are kong.log's functions and their nginx levels.
var kongLogLevels = [...]struct {
	name string
	lvl  int
}{
	{"debug", LogDebug}, {"info", LogInfo}, {"notice", LogNotice}, {"warn", LogWarn},
	{"err", LogErr}, {"crit", LogCrit}, {"alert", LogAlert}, {"emerg", LogEmerg},
}

// kongLogs are a worker's kong.log facilities, as Kong's kong/pdk/log.lua
// new_log makes them: "core" (kong.log outside a plugin, Kong's default
// format), one per plugin, made the first time the plugin runs and kept
// for the worker's life (kong/global.lua set_namespaced_log), and those
// kong.log.new returns. Each has its own format (set_format) and its own
// level functions: set_format replaces them, so a function read before it
// keeps the format it was made with, as in Kong.
type kongLogs struct {
	core *lua.LTable
	byNS map[string]*lua.LTable
	// mt is Kong's _log_mt: __call (notice), new, and __index itself
	mt *lua.LTable
	// fields every facility carries (set_serialize_value, serialize),
	// replaced by pdk/request with SetKongLogField
	fields []kongLogField
	gsub   lua.LValue     // string.gsub as the state was opened (set_format)
	trace  *lua.LFunction // Kong's NOOP trace (KONG_IS_TESTING unset)
}

type kongLogField struct {
	name string
	v    lua.LValue
}

// kongIsTesting is Kong's IS_TESTING: KONG_IS_TESTING=1 makes trace log at
// debug. Read when a facility is made (Kong reads it at its first), so
// that luahost test, which sets it as Kong's bin/busted does, applies it
// to the nodes it starts whatever ran before in the process.
func kongIsTesting() bool { return os.Getenv("KONG_IS_TESTING") == "1" }

// openKongLog makes the worker's core facility and the namespaced ones'
// machinery; openKong sets kong.log to the core one, SetPluginName to a
// plugin's.
func (in *Instance) openKongLog() {
	L := in.L
	lg := &kongLogs{byNS: map[string]*lua.LTable{}}
	if str, ok := L.GetGlobal("string").(*lua.LTable); ok {
		lg.gsub = str.RawGetString("gsub")
	}
	lg.trace = L.NewFunction(func(*lua.LState) int { return 0 })
	lg.fields = []kongLogField{
		{"set_serialize_value", L.NewFunction(in.setSerializeValue)},
		{"serialize", L.NewFunction(func(L *lua.LState) int {
			out := L.NewTable()
			in.ApplySerializeValues(out)
			L.Push(out)
			return 1
		})},
	}
	mt := L.NewTable()
	mt.RawSetString("__call", L.NewFunction(kongLogCall))
	mt.RawSetString("__index", mt)
	mt.RawSetString("new", L.NewFunction(in.kongLogNew))
	lg.mt = mt
	in.logs = lg
	lg.core = in.newLogFacility(L, "core", lua.LString(defaultLogFormat))
}

// PluginName is the plugin being run ("" outside a plugin).
func (in *Instance) PluginName() string { return in.plugin }

// SetPluginName makes name the plugin being run ("" none, after a
// plugin's handler returns) and kong.log, a plain field of kong, its
// facility (core's for ""), as Kong's runloop does around each handler
// call with kong/global.lua set_namespaced_log and reset_log. A plugin's
// facility is made on its first run, without a Lua call unless the name
// holds a "%"; after that, switching allocates nothing.
func (in *Instance) SetPluginName(name string) {
	in.plugin = name
	if in.kong != nil {
		in.kong.RawSetString("log", in.pluginLog(name))
	}
}

// pluginLog is the named plugin's facility, made the first time (Kong's
// set_namespaced_log: new_log(namespace) in the namespaced default
// format), core's for "".
func (in *Instance) pluginLog(name string) *lua.LTable {
	lg := in.logs
	if name == "" {
		return lg.core
	}
	if t := lg.byNS[name]; t != nil {
		return t
	}
	var t *lua.LTable
	if !strings.Contains(name, "%") {
		t = in.newLogFacility(in.L, name, lua.LNil)
	} else {
		// the namespace goes through string.gsub, which may raise (Kong's
		// new_log does, "invalid capture index"): then core's format
		err := in.L.CallByParam(lua.P{Fn: in.L.NewFunction(func(L *lua.LState) int {
			t = in.newLogFacility(L, name, lua.LNil)
			return 0
		}), Protect: true})
		if err != nil {
			t = in.newLogFacility(in.L, name, lua.LString(defaultLogFormat))
		}
	}
	lg.byNS[name] = t
	return t
}

// SetKongLogField sets name to v in every kong.log facility, those made
// later included (pdk/request's set_serialize_value and serialize).
func (in *Instance) SetKongLogField(name string, v lua.LValue) {
	lg := in.logs
	if lg == nil {
		return
	}
	found := false
	for i := range lg.fields {
		if lg.fields[i].name == name {
			lg.fields[i].v, found = v, true
		}
	}
	if !found {
		lg.fields = append(lg.fields, kongLogField{name, v})
	}
	lg.core.RawSetString(name, v)
	for _, t := range lg.byNS {
		t.RawSetString(name, v)
	}
}

// newLogFacility is Kong's new_log(namespace, format) once the arguments
// are checked: the level functions in format (nil or false: the
// namespaced default), set_format, inspect, trace and the shared fields.
func (in *Instance) newLogFacility(L *lua.LState, namespace string, format lua.LValue) *lua.LTable {
	lg := in.logs
	self := L.CreateTable(0, 16)
	self.RawSetString("set_format", L.NewFunction(func(L *lua.LState) int {
		in.setLogFormat(L, self, namespace, L.Get(1))
		return 0
	}))
	in.setLogFormat(L, self, namespace, format)
	self.RawSetString("inspect", in.newKongInspect(namespace))
	if kongIsTesting() {
		self.RawSetString("trace", self.RawGetString("debug"))
	} else {
		self.RawSetString("trace", lg.trace)
	}
	for _, f := range lg.fields {
		self.RawSetString(f.name, f.v)
	}
	self.Metatable = lg.mt
	return self
}

// setLogFormat is a facility's set_format(fmt): fmt a string, or nil or
// false for the namespaced default; new level functions in self.
func (in *Instance) setLogFormat(L *lua.LState, self *lua.LTable, namespace string, v lua.LValue) {
	format := defaultNamespacedLogFormat
	switch x := v.(type) {
	case *lua.LNilType:
	case lua.LString:
		format = string(x)
	default:
		if lua.LVAsBool(v) {
			bind.RaiseAtCaller(L, "format must be a string")
		}
	}
	f := compileLogFormat(kongLogPrefix + in.substituteNamespace(L, format, namespace))
	for _, l := range kongLogLevels {
		self.RawSetString(l.name, L.NewFunction(in.kongLogFunc(l.lvl, f)))
	}
}

// substituteNamespace is Kong's fmt:gsub("([^%%])%%namespace", "%1" ..
// namespace), run by the state's string.gsub: "%namespace" after any
// character but "%" becomes the namespace, read as a gsub replacement
// ("%" escapes the next character, "%0" and "%1" are captures).
func (in *Instance) substituteNamespace(L *lua.LState, format, namespace string) string {
	if !strings.Contains(format, "%namespace") {
		return format
	}
	if format == defaultNamespacedLogFormat && !strings.Contains(namespace, "%") {
		// the one "%namespace" follows "[", the replacement has no "%"
		return "%file_src:%line_src [" + namespace + "] %message"
	}
	gsub := in.logs.gsub
	if gsub == nil || gsub == lua.LNil {
		L.RaiseError("string.gsub is missing")
	}
	L.Push(gsub)
	L.Push(lua.LString(format))
	L.Push(lua.LString("([^%%])%%namespace"))
	L.Push(lua.LString("%1" + namespace))
	L.Call(3, 1)
	out := L.Get(-1)
	L.Pop(1)
	return lua.LVAsString(out)
}

// kongLogNew is kong.log.new(namespace, format) (Kong's new_log): a
// facility of its own, the namespaced default format when format is nil
// or false.
func (in *Instance) kongLogNew(L *lua.LState) int {
	ns, ok := L.Get(1).(lua.LString)
	if !ok {
		bind.RaiseAtCaller(L, "namespace must be a string")
	}
	if ns == "" {
		bind.RaiseAtCaller(L, "namespace cannot be an empty string")
	}
	format := L.Get(2)
	if lua.LVAsBool(format) {
		s, ok := format.(lua.LString)
		if !ok {
			bind.RaiseAtCaller(L, "format must be a string if specified")
		}
		if s == "" {
			bind.RaiseAtCaller(L, "format cannot be an empty string if specified")
		}
	}
	L.Push(in.newLogFacility(L, string(ns), format))
	return 1
}

// kongLogCall is _log_mt.__call: self.notice(...), with the caller's
// frame as the one logged (Kong's is a tail call). A Go function runs in
// this frame, so that its caller is kong.log's caller.
func kongLogCall(L *lua.LState) int {
	fn := L.GetField(L.Get(1), "notice")
	L.Remove(1)
	if f, ok := fn.(*lua.LFunction); ok && f.IsG {
		return f.GFunction(L)
	}
	L.Insert(fn, 1)
	L.Call(L.GetTop()-1, lua.MultRet)
	return L.GetTop()
}

// kongLogFunc is one level function of a facility: when the level is on,
// the format with the arguments (through tostring, concatenated) as
// %message and the caller's frame for the other modifiers.
func (in *Instance) kongLogFunc(lvl int, f *logFormat) lua.LGFunction {
	return func(L *lua.LState) int {
		if !in.Root.LogEnabled(lvl) {
			return 0
		}
		in.Log(lvl, f.render(L, 1, 1))
		return 0
	}
}

// newKongInspect is kong.log.inspect(...): at notice, the arguments
// pretty-printed (a subset of inspect.lua's layout) inside Kong's 120-column
// box under "[kong] %file_src:%func_name:%line_src [<namespace>]";
// kong.log.inspect.on()/off() toggle it.
func (in *Instance) newKongInspect(namespace string) *lua.LTable {
	L := in.L
	enabled := true
	header := compileLogFormat(kongLogPrefix + "%file_src:%func_name:%line_src [" + namespace + "]")
	t := L.NewTable()
	t.RawSetString("on", L.NewFunction(func(L *lua.LState) int { enabled = true; return 0 }))
	t.RawSetString("off", L.NewFunction(func(L *lua.LState) int { enabled = false; return 0 }))
	mt := L.NewTable()
	mt.RawSetString("__call", L.NewFunction(func(L *lua.LState) int {
		if !enabled || !in.Root.LogEnabled(LogNotice) {
			return 0
		}
		parts := make([]string, 0, L.GetTop()-1)
		for i := 2; i <= L.GetTop(); i++ {
			parts = append(parts, Inspect(L.Get(i)))
		}
		for _, ln := range inspectBox(header.render(L, 1, L.GetTop()+1), strings.Join(parts, " ")) {
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
// stops at inspectMaxLen. Tables nested deeper than bind.MaxRecursion print
// as "{...}", inspect.lua's mark for a table past its depth option.
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
		if depth >= bind.MaxRecursion {
			b.WriteString("{...}")
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
	if !serializableValue(val, map[*lua.LTable]bool{}, &budget, 0) {
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

// serializableValue is Kong's is_valid_value: a table met twice (a cycle,
// or one shared by two fields, as Kong's visited set is never cleared
// during one check) is refused, so the walk is linear; nesting past
// bind.MaxRecursion is refused too.
func serializableValue(v lua.LValue, seen map[*lua.LTable]bool, budget *int, depth int) bool {
	if *budget--; *budget < 0 || depth > bind.MaxRecursion {
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
			if ok && (!serializableValue(k, seen, budget, depth+1) || !serializableValue(v, seen, budget, depth+1)) {
				ok = false
			}
		})
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
