package pdk

// kong.timer (Kong 3's lua-resty-timer-ng instance, which Kong's
// globalpatches also put behind ngx.timer.at/every): named_at,
// named_every, at, every, cancel, pause, resume, is_managed, stats,
// set_debug, and start/freeze/destroy as no-ops (a worker's timers always
// run). Its jobs are the worker's ngx.timer queue (ngx_timer.go), so every
// timer, whichever API made it, has a name: the one given to named_at /
// named_every, else timer-ng's "unix_timestamp=<ms>;counter=<n>:meta=<call
// site>". The call site is recorded when debug is on, as Kong turns it on
// for log_level = debug (its spec configuration does); otherwise it reads
// "debug off". Differences from timer-ng: delays below its 0.1 s
// resolution or past its wheels' day are jobs too (timer-ng hands them to
// the native ngx.timer, unnamed); ngx.timer.at still returns 1.

import (
	"container/heap"
	"math"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// timerMeta is a job's meta: the innermost frame of its creator's call
// stack ("<source>:<line>:<function>()") and the whole stack, outermost
// first, ";"-separated.
type timerMeta struct {
	name, callstack string
	on              bool // recorded (debug was on)
}

// debugOff is the meta of a job made while debug is off (timer-ng's).
var debugOff = timerMeta{name: "debug off", callstack: "debug off"}

// maxCallstackDepth bounds the frames a meta records (timer-ng's).
const maxCallstackDepth = 128

// callerMeta reads the Lua frames from the caller of the running Go
// function outwards, up to the first Go (C, in LuaJIT) frame. Levels Lua
// 5.1 counts for tail calls are left out, as LuaJIT has none: gopher-lua's
// GetStack answers them with the outermost frame.
func callerMeta(L *lua.LState) timerMeta {
	var levels []*lua.Debug
	for level := 1; level <= maxCallstackDepth; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		levels = append(levels, dbg)
	}
	var frames []string
	for i, dbg := range levels {
		if i < len(levels)-1 && *dbg == *levels[len(levels)-1] {
			continue // a tail call's level
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil || dbg.What == "G" {
			break
		}
		src := dbg.Source
		if !strings.HasPrefix(src, "@") && !strings.HasPrefix(src, "=") {
			src = "@" + src // a file, as LuaJIT's source names it
		}
		frames = append(frames, src+":"+strconv.Itoa(dbg.CurrentLine)+":"+frameName(dbg)+"()")
	}
	if len(frames) == 0 {
		return debugOff
	}
	var b strings.Builder
	for i := len(frames) - 1; i >= 0; i-- {
		b.WriteString(frames[i])
		if i > 0 {
			b.WriteByte(';')
		}
	}
	return timerMeta{name: frames[0], callstack: b.String(), on: true}
}

// frameName is LuaJIT's `info.name or info.what` for a frame: gopher-lua's
// placeholders for a function with no name give its kind instead.
func frameName(dbg *lua.Debug) string {
	switch n := dbg.Name; {
	case n == "", n == "?", n == "main chunk", n == "corountine", n == "(anonymous)", strings.HasPrefix(n, "<"):
		if dbg.What == "main" {
			return "main"
		}
		return "Lua"
	default:
		return n
	}
}

// timerName is the name timer-ng gives a job created without one; the
// counter is the node's, so names stay unique across its workers.
func (r *Root) timerName(now time.Time, meta string) string {
	ms := math.Floor(float64(now.UnixNano()) / 1e6)
	b := make([]byte, 0, 64+len(meta))
	b = append(b, "unix_timestamp="...)
	b = strconv.AppendFloat(b, ms, 'f', 6, 64)
	b = append(b, ";counter="...)
	b = strconv.AppendUint(b, r.timerCounter.Add(1)-1, 10)
	b = append(b, ":meta="...)
	b = append(b, meta...)
	return string(b)
}

// timerRunStats is a job's stats (timer-ng's): runs counts the runs begun,
// finish those that returned without error; elapsed_time is recorded in
// debug only.
type timerRunStats struct {
	runs, finish            int
	lastErr                 string
	avg, max, min, variance float64
}

func newTimerRunStats() timerRunStats { return timerRunStats{max: -1, min: 9999999} }

// ran records a finished run of t: a one-shot, or any timer run at close,
// is then forgotten (timer-ng cancels a one-shot once it has run).
func (q *timerQueue) ran(t *luaTimer, err error, spent time.Duration, premature bool) {
	q.statsMu.Lock()
	t.running = false
	s := &t.stats
	if err == nil {
		s.finish++
	} else {
		s.lastErr = timerErrorMessage(err)
	}
	q.runs++
	if t.meta.on && s.finish > 0 {
		// timer-ng's running mean and variance over the runs that finished
		sec := spent.Seconds()
		n := float64(s.finish)
		s.max = max(s.max, sec)
		s.min = min(s.min, sec)
		old := s.avg
		s.avg = old + (sec-old)/n
		s.variance = (n-1)/(n*n)*(sec-old)*(sec-old) + (n-1)/n*s.variance
		if q.flame == nil {
			q.flame = map[string]float64{}
		}
		if _, ok := q.flame[t.meta.callstack]; ok || len(q.flame) < maxFlameStacks {
			q.flame[t.meta.callstack] += sec
		}
	}
	if t.every == 0 || premature {
		q.forgetLocked(t)
	}
	q.statsMu.Unlock()
}

// maxFlameStacks bounds the call stacks the flamegraph keeps (timer-ng's
// LRU of 1024).
const maxFlameStacks = 1024

func (q *timerQueue) forget(t *luaTimer) {
	q.statsMu.Lock()
	q.forgetLocked(t)
	q.statsMu.Unlock()
}

func (q *timerQueue) forgetLocked(t *luaTimer) {
	if q.jobs[t.name] == t {
		delete(q.jobs, t.name)
	}
}

// timerErrorMessage is the error value a callback raised, as a string.
func timerErrorMessage(err error) string {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		return ae.Object.String()
	}
	return err.Error()
}

// newKongTimer is the kong.timer table; its functions are methods
// (kong.timer:named_at(...)): argument 1 is the table itself.
func (in *Instance) newKongTimer() *lua.LTable {
	L := in.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"named_at":    func(L *lua.LState) int { return in.timerQueue().kongAdd(L, true, false) },
		"named_every": func(L *lua.LState) int { return in.timerQueue().kongAdd(L, true, true) },
		"at":          func(L *lua.LState) int { return in.timerQueue().kongAdd(L, false, false) },
		"every":       func(L *lua.LState) int { return in.timerQueue().kongAdd(L, false, true) },
		"cancel":      func(L *lua.LState) int { return in.timerQueue().kongByName(L, (*timerQueue).cancel) },
		"pause":       func(L *lua.LState) int { return in.timerQueue().kongByName(L, (*timerQueue).pause) },
		"resume":      func(L *lua.LState) int { return in.timerQueue().kongByName(L, (*timerQueue).resume) },
		"is_managed": func(L *lua.LState) int {
			_, ok := in.timerQueue().jobs[L.CheckString(2)]
			L.Push(lua.LBool(ok))
			return 1
		},
		"stats": func(L *lua.LState) int {
			verbose, flame := false, false
			if o, ok := L.Get(2).(*lua.LTable); ok {
				verbose = lua.LVAsBool(o.RawGetString("verbose"))
				flame = lua.LVAsBool(o.RawGetString("flamegraph"))
			}
			st := newTimerStats()
			st.add(in.timerQueue(), in.timerQueue().now())
			L.Push(bind.FromValue(L, st.table(verbose, verbose && flame), nil))
			return 1
		},
		"set_debug": func(L *lua.LState) int {
			in.timerQueue().debug = lua.LVAsBool(L.Get(2))
			return 0
		},
		"start": func(L *lua.LState) int {
			L.Push(lua.LTrue)
			L.Push(lua.LNil)
			return 2
		},
		"freeze":  func(L *lua.LState) int { return 0 },
		"destroy": func(L *lua.LState) int { return 0 },
	})
	return t
}

// openTimerng makes require "resty.timerng" (lua-resty-timer-ng, the
// library behind kong.timer) answer new(options), a timer system with
// kong.timer's methods (start, at, every, named_at, ...), as a spec that
// sets kong.timer to a fresh one does. Its jobs are this worker's timers,
// as kong.timer's: each new system shares them (timer-ng's each own a
// wheel, so a name may be reused in another system there); options
// (threads, restart_thread_after_runs, ...) tune timer-ng's pool of
// threads, which luahost has not, and are ignored.
func openTimerng(in *Instance) {
	in.L.PreloadModule("resty.timerng", func(L *lua.LState) int {
		mod := L.NewTable()
		mod.RawSetString("new", L.NewFunction(func(L *lua.LState) int {
			L.Push(in.newKongTimer())
			return 1
		}))
		L.Push(mod)
		return 1
	})
}

// maxTimerDelay bounds a kong.timer delay, in seconds, so that it fits a
// time.Duration (about 31 years).
const maxTimerDelay = 1e9

// kongAdd is kong.timer:named_at(name, delay, callback, ...) and
// named_every (named), at(delay, callback, ...) and every: the job's name,
// or false and why. Bad arguments raise timer-ng's assertions.
func (q *timerQueue) kongAdd(L *lua.LState, named, every bool) int {
	base := 2
	name := ""
	if named {
		base = 3
		if v := L.Get(2); v != lua.LNil {
			name = lua.LVAsString(v)
			if name == "" {
				name = v.String()
			}
		} else {
			named = false
		}
	}
	fn, ok := L.Get(base + 1).(*lua.LFunction)
	if !ok {
		L.RaiseError("expected `callback` to be a function")
	}
	what := "delay"
	if every {
		what = "interval"
	}
	n, ok := L.Get(base).(lua.LNumber)
	if !ok {
		L.RaiseError("expected `%s to be a number", what)
	}
	if every && n <= 0 || n < 0 {
		L.RaiseError("expected `%s` to be greater than or equal to 0", what)
	}
	var args []lua.LValue
	if top := L.GetTop(); top > base+1 {
		args = make([]lua.LValue, 0, top-base-1)
		for i := base + 2; i <= top; i++ {
			args = append(args, L.Get(i))
		}
	}
	d := time.Duration(min(float64(n), maxTimerDelay) * float64(time.Second))
	name, msg := q.add(L, name, named, d, every, fn, args)
	if msg != "" {
		L.Push(lua.LFalse)
		L.Push(lua.LString(msg))
		return 2
	}
	L.Push(lua.LString(name))
	L.Push(lua.LNil)
	return 2
}

// kongByName is kong.timer:cancel/pause/resume(name): true, or false and
// why.
func (q *timerQueue) kongByName(L *lua.LState, op func(*timerQueue, *luaTimer) string) int {
	v, ok := L.Get(2).(lua.LString)
	if !ok {
		L.RaiseError("expected `name` to be a string")
	}
	t := q.jobs[string(v)]
	msg := "timer not found"
	if t != nil {
		msg = op(q, t)
	}
	if msg != "" {
		L.Push(lua.LFalse)
		L.Push(lua.LString(msg))
		return 2
	}
	L.Push(lua.LTrue)
	L.Push(lua.LNil)
	return 2
}

// cancel forgets t: it never runs again.
func (q *timerQueue) cancel(t *luaTimer) string {
	t.cancelled = true
	if t.index >= 0 {
		heap.Remove(&q.pending, t.index)
		q.arm()
	}
	q.forget(t)
	return ""
}

// pause keeps t by name but skips its runs until resume.
func (q *timerQueue) pause(t *luaTimer) string {
	q.statsMu.Lock()
	t.paused = true
	q.statsMu.Unlock()
	return ""
}

// resume starts a paused t again, its delay counted from now (timer-ng
// re-creates the job); one not paused is "running".
func (q *timerQueue) resume(t *luaTimer) string {
	if !t.paused {
		return "running"
	}
	if t.index >= 0 {
		heap.Remove(&q.pending, t.index)
	}
	q.statsMu.Lock()
	t.paused = false
	t.due = q.now().Add(t.delay)
	q.statsMu.Unlock()
	q.push(t)
	q.arm()
	return ""
}
