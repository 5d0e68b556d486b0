package pdk

// ngx.timer (lua-nginx-module's timer API): at, every, running_count,
// pending_count. A timer's callback is a closure of the worker's own state,
// so it runs in that worker: each worker keeps a queue ordered by due time,
// one Go timer wakes the worker's inbox when the earliest is due, and Drain
// (the host calls it before the worker runs Lua and when the inbox's Ready
// fires while it is idle) runs the due callbacks after the waiting events,
// as callback(premature, ...) in phase "timer" with a fresh ngx.ctx.
// Differences from nginx: a worker runs one timer at a time (its state is
// single-threaded), so running_count() is 0 or 1; a timer does not run
// while the worker serves a request, it waits for the next drain. The
// queue also holds kong.timer's jobs (kong_timer.go): as in Kong 3, where
// ngx.timer.at/every go through lua-resty-timer-ng, every timer has a name
// and run counts, which the Admin API's GET /timers reports
// (timer_stats.go).

import (
	"container/heap"
	"context"
	"strconv"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb/events"
)

// Kong's nginx template sets lua_max_pending_timers 16384 and
// lua_max_running_timers 4096; the kong.conf properties of the same names
// (when set) override them.
const (
	defaultMaxPendingTimers = 16384
	defaultMaxRunningTimers = 4096
)

// timerCloseBudget bounds the time the premature run of a closing worker's
// pending timers may take: Close never waits longer.
var timerCloseBudget = time.Second

// Wake-up retries while due timers wait for a busy worker (its idle
// drainer could not take it): from timerRetryMin doubling to timerRetryMax.
const (
	timerRetryMin = time.Millisecond
	timerRetryMax = 100 * time.Millisecond
)

// luaTimer is one timer of a worker (ngx.timer.at/every, kong.timer's
// jobs), from its creation until it is cancelled or, for a one-shot, has
// run: a repeating one is pushed back into the queue before each run.
// Fields the Admin API reads (due, paused, running, stats) change under the
// queue's statsMu.
type luaTimer struct {
	due   time.Time
	seq   uint64        // creation order among timers due at the same time
	index int           // position in the queue's heap, -1 outside it
	every time.Duration // 0 for a one-shot
	delay time.Duration // as created (kong.timer:resume starts it again)
	fn    *lua.LFunction
	args  []lua.LValue

	name      string // its key in the queue's jobs (kong_timer.go)
	meta      timerMeta
	paused    bool // kong.timer:pause: skipped when due, kept by name
	cancelled bool // kong.timer:cancel: never runs again
	running   bool
	stats     timerRunStats
}

// timerHeap orders timers by due time, then creation.
type timerHeap []*luaTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*luaTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}

// timerQueue is one worker's timers. Everything but the wake-up state is
// used by the worker's goroutine only.
type timerQueue struct {
	in      *Instance
	pending timerHeap
	seq     uint64
	running int            // callbacks running now
	closing bool           // the worker is closing: ngx.worker.exiting() is true
	socks   bind.Cosockets // the running callback's (one runs at a time)

	maxPending, maxRunning int

	// statsMu guards jobs, runs and flame, and the fields of a job the
	// Admin API reads (GET /timers, Root.TimerStats), which the worker
	// changes under it.
	statsMu sync.Mutex
	jobs    map[string]*luaTimer // every timer not finished, by name
	runs    int                  // callbacks that returned (timer-ng's sys.runs)
	flame   map[string]float64   // seconds run, by callstack (debug only)
	debug   bool                 // record call sites (kong.timer:set_debug)

	mu     sync.Mutex // guards the wake-up state below (the Go timer's goroutine)
	inbox  *events.Inbox
	wakeT  *time.Timer
	retry  time.Duration
	closed bool
}

func (in *Instance) timerQueue() *timerQueue {
	if in.timers == nil {
		q := &timerQueue{in: in, maxPending: defaultMaxPendingTimers, maxRunning: defaultMaxRunningTimers}
		q.jobs = map[string]*luaTimer{}
		if c := in.Root.Conf; c != nil {
			q.maxPending = c.Int("lua_max_pending_timers", q.maxPending)
			q.maxRunning = c.Int("lua_max_running_timers", q.maxRunning)
			// Kong's init: kong.timer:set_debug(log_level == "debug")
			q.debug = c.Get("log_level") == "debug"
		}
		in.timers = q
		in.Root.addTimerQueue(q)
	}
	return in.timers
}

// newNgxTimer is the ngx.timer table.
func (in *Instance) newNgxTimer() *lua.LTable {
	L := in.L
	t := L.CreateTable(0, 4)
	t.RawSetString("at", L.NewFunction(func(L *lua.LState) int { return in.timerQueue().luaAdd(L, false) }))
	t.RawSetString("every", L.NewFunction(func(L *lua.LState) int { return in.timerQueue().luaAdd(L, true) }))
	t.RawSetString("running_count", L.NewFunction(func(L *lua.LState) int {
		n := 0
		if in.timers != nil {
			n = in.timers.running
		}
		L.Push(lua.LNumber(n))
		return 1
	}))
	t.RawSetString("pending_count", L.NewFunction(func(L *lua.LState) int {
		n := 0
		if in.timers != nil {
			n = len(in.timers.pending)
		}
		L.Push(lua.LNumber(n))
		return 1
	}))
	return t
}

// luaAdd is ngx.timer.at(delay, callback, ...) and ngx.timer.every: on
// success the timer's name as Kong 3 answers (1 where Kong's timer-ng
// would hand the delay to nginx: timerNGManaged), or nil and "too many
// pending timers" / "process exiting". Bad arguments raise, with
// lua-nginx-module's messages.
func (q *timerQueue) luaAdd(L *lua.LState, every bool) int {
	if n := L.GetTop(); n < 2 {
		L.RaiseError("expecting at least 2 arguments but got %d", n)
	}
	sec := float64(L.CheckNumber(1))
	ms := int64(sec * 1000) // nginx keeps milliseconds
	if ms < 0 {
		ms = 0
	}
	if every && ms == 0 {
		L.RaiseError("delay cannot be zero")
	}
	fn, ok := L.Get(2).(*lua.LFunction)
	if !ok || fn.IsG {
		L.ArgError(2, "Lua function expected")
	}
	var args []lua.LValue
	if n := L.GetTop(); n > 2 {
		args = make([]lua.LValue, 0, n-2)
		for i := 3; i <= n; i++ {
			args = append(args, L.Get(i))
		}
	}
	name, msg := q.add(L, "", false, time.Duration(ms)*time.Millisecond, every, fn, args)
	if msg != "" {
		return bind.Fail(L, msg)
	}
	if timerNGManaged(sec, every) {
		L.Push(lua.LString(name))
	} else {
		L.Push(lua.LNumber(1))
	}
	return 1
}

// timerNGManaged tells whether Kong 3's ngx.timer.at/every (patched by
// globalpatches onto lua-resty-timer-ng) hands a delay to timer-ng, which
// answers the job's name, or to nginx's own timer, which answers 1: a
// delay past the wheels' day, or under their 0.1 s resolution (0 included
// for every; at(0) is timer-ng's). luahost queues both alike.
func timerNGManaged(sec float64, every bool) bool {
	const resolution, maxExpire = 0.1, 86400.0
	if sec >= maxExpire {
		return false
	}
	if every {
		return sec >= resolution
	}
	return sec == 0 || sec >= resolution
}

// add queues a timer of delay d (every d when every), named name when
// named, else after its creation (kong_timer.go): its name, or "" and why
// it could not: nginx's "process exiting" and "too many pending timers",
// timer-ng's "already exists timer". L's stack has its creator at level 1.
func (q *timerQueue) add(L *lua.LState, name string, named bool, d time.Duration, every bool, fn *lua.LFunction,
	args []lua.LValue) (string, string) {
	if q.closing && d > 0 {
		return "", "process exiting"
	}
	if len(q.pending) >= q.maxPending {
		return "", "too many pending timers"
	}
	if named {
		if _, dup := q.jobs[name]; dup {
			return "", "already exists timer"
		}
	}
	now := q.now()
	t := &luaTimer{due: now.Add(d), index: -1, delay: d, fn: fn, args: args, meta: debugOff, stats: newTimerRunStats()}
	if every {
		t.every = d
	}
	if q.debug {
		t.meta = callerMeta(L)
	}
	if !named {
		name = q.in.Root.timerName(now, t.meta.name)
	}
	t.name = name
	q.statsMu.Lock()
	q.jobs[name] = t
	q.statsMu.Unlock()
	q.push(t)
	q.arm()
	return name, ""
}

func (q *timerQueue) now() time.Time {
	if q.in.Root.Now != nil {
		return q.in.Root.Now()
	}
	return time.Now()
}

func (q *timerQueue) push(t *luaTimer) {
	q.seq++
	t.seq = q.seq
	heap.Push(&q.pending, t)
}

// arm sets the Go timer for the earliest pending timer (none: stopped).
func (q *timerQueue) arm() {
	var delay time.Duration
	has := len(q.pending) > 0
	if has {
		delay = max(q.pending[0].due.Sub(q.now()), 0)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.retry = timerRetryMin
	q.inbox = Inbox(q.in)
	switch {
	case !has:
		if q.wakeT != nil {
			q.wakeT.Stop()
		}
	case q.wakeT == nil:
		q.wakeT = time.AfterFunc(delay, q.fire)
	default:
		q.wakeT.Reset(delay)
	}
}

// fire runs on the Go timer's goroutine: it wakes the worker's inbox and,
// in case the worker was busy and the wake-up is lost, wakes it again
// later until a drain re-arms the timer.
func (q *timerQueue) fire() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.inbox == nil { // no inbox: the next Drain runs them
		return
	}
	q.inbox.Wake()
	q.wakeT.Reset(q.retry)
	q.retry = min(q.retry*2, timerRetryMax)
}

// runTimers runs the timers due now (Drain calls it after the events).
// Timers created by these callbacks wait for the next drain, even with
// delay 0. Not reentrant.
func (in *Instance) runTimers() {
	q := in.timers
	if q == nil || q.running > 0 || q.closing || len(q.pending) == 0 {
		return
	}
	if w := in.events; w != nil && (w.draining || w.calling > 0) {
		return
	}
	now := q.now()
	last := q.seq
	var due []*luaTimer
	for len(q.pending) > 0 && !q.pending[0].due.After(now) && q.pending[0].seq <= last {
		due = append(due, heap.Pop(&q.pending).(*luaTimer))
	}
	for _, t := range due {
		if t.cancelled || t.paused {
			// a paused one stays known by name until resumed (timer-ng)
			continue
		}
		if t.every > 0 {
			// nginx schedules the next run before this one starts.
			q.statsMu.Lock()
			t.due = now.Add(t.every)
			q.statsMu.Unlock()
			q.push(t)
		}
		q.run(t, false)
	}
	q.arm()
}

// run calls one timer's callback as callback(premature, args...) in phase
// "timer" with a fresh ngx.ctx, restoring the worker's phase, plugin and
// ngx.ctx afterwards. A failure is logged, never raised.
func (q *timerQueue) run(t *luaTimer, premature bool) {
	in := q.in
	L := in.L
	if q.running >= q.maxRunning {
		in.Root.Log(LogAlert, "lua failed to run timer with function defined at "+timerSource(t.fn)+": "+
			strconv.Itoa(q.maxRunning)+" lua_max_running_timers are not enough")
		if t.every == 0 || premature {
			q.forget(t)
		}
		return
	}
	phase, plugin, ctx := in.Phase, in.plugin, in.SaveCtx()
	in.Phase = "timer"
	in.SetPluginName("")
	in.SetCtx(L.NewTable())
	q.running++
	q.statsMu.Lock()
	t.running = true
	t.stats.runs++
	q.statsMu.Unlock()
	start := q.now()
	// the callback's cosockets are closed when it returns, as nginx
	// finalizes a timer's fake request
	socks := in.SwitchCosockets(&q.socks)
	top := L.GetTop()
	args := make([]lua.LValue, 0, 1+len(t.args))
	args = append(args, lua.LBool(premature))
	args = append(args, t.args...)
	var err error
	switch {
	case q.closing: // under closeTimers' budget
		err = pcallArgs(L, t.fn, args)
	case in.Call != nil:
		err = in.Call(t.fn, 0, args...)
	default:
		err = q.pcallBounded(t.fn, args)
	}
	L.SetTop(top)
	q.ran(t, err, q.now().Sub(start), premature)
	q.socks.End()
	in.SwitchCosockets(socks)
	q.running--
	in.Phase = phase
	in.SetPluginName(plugin)
	in.RestoreCtx(ctx)
	if err != nil {
		in.Root.Log(LogErr, timerErrorLine(err))
	}
}

func pcallArgs(L *lua.LState, fn *lua.LFunction, args []lua.LValue) error {
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	return luavm.PCall(L, len(args), 0, true)
}

// pcallBounded runs a callback under lua_timeout (milliseconds, default
// 5000) when the host gave no Call: a runaway timer must not hold the
// worker for ever. The state's own context is put back afterwards.
func (q *timerQueue) pcallBounded(fn *lua.LFunction, args []lua.LValue) error {
	L := q.in.L
	limit := 5000
	if c := q.in.Root.Conf; c != nil {
		limit = c.Int("lua_timeout", limit)
	}
	if limit <= 0 {
		return pcallArgs(L, fn, args)
	}
	old := L.Context()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(limit)*time.Millisecond)
	defer cancel()
	luavm.SetContext(L, ctx)
	err := pcallArgs(L, fn, args)
	if old != nil {
		luavm.SetContext(L, old)
	} else {
		L.RemoveContext()
	}
	return err
}

// timerErrorLine is nginx's line for a timer callback that raised.
func timerErrorLine(err error) string {
	msg := err.Error()
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		msg = ae.Object.String()
		if ae.StackTrace != "" {
			msg += "\n" + ae.StackTrace
		}
	}
	return "lua entry thread aborted: runtime error: " + msg + ", context: ngx.timer"
}

// timerSource is "<chunk>:<line defined>" of a callback.
func timerSource(fn *lua.LFunction) string {
	if fn.Proto == nil {
		return "=[C]:-1"
	}
	return fn.Proto.SourceName + ":" + strconv.Itoa(fn.Proto.LineDefined)
}

// closeTimers stops a closing worker's timers. Like nginx on worker exit it
// runs every pending timer at once with premature = true (ngx.timer.every
// ones are not rescheduled, new timers with a delay are refused with
// "process exiting"), in due order, within timerCloseBudget: what remains
// after it is dropped.
func closeTimers(in *Instance) {
	q := in.timers
	if q == nil {
		return
	}
	q.mu.Lock()
	q.closed = true
	if q.wakeT != nil {
		q.wakeT.Stop()
	}
	q.mu.Unlock()
	// a closing worker's timers are no longer the node's
	in.Root.removeTimerQueue(q)
	if q.closing {
		return
	}
	q.closing = true
	if len(q.pending) == 0 {
		return
	}
	L := in.L
	old := L.Context()
	ctx, cancel := context.WithTimeout(context.Background(), timerCloseBudget)
	defer cancel()
	luavm.SetContext(L, ctx)
	for len(q.pending) > 0 && ctx.Err() == nil {
		if t := heap.Pop(&q.pending).(*luaTimer); !t.paused {
			q.run(t, true)
		}
	}
	if n := len(q.pending); n > 0 {
		in.Root.Log(LogWarn, "worker closing: dropped "+strconv.Itoa(n)+" pending timers (premature run took over "+
			timerCloseBudget.String()+")")
		q.pending = nil
	}
	if old != nil {
		luavm.SetContext(L, old)
	} else {
		L.RemoveContext()
	}
}
