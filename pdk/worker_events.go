package pdk

// kong.worker_events (KONG-REFERENCE §7.1) over the node's EventBus:
// register(callback, source?, event...), register_weak, unregister, post,
// post_local, poll, configure, configured. Callbacks are called as
// callback(data, event, source, pid) in the worker's own state: at once for
// post_local and for the poster of post (lua-resty-worker-events 1.x, the
// behaviour the plugin-development guide describes), and in the other
// workers when they drain their inbox (before they run Lua, or on poll()).
// An error in a callback is logged and never reaches the poster.

import (
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/events"
)

// eventsWorker is one worker's end of the bus: its inbox and its Lua
// registrations.
type eventsWorker struct {
	in    *Instance
	bus   *events.Bus
	inbox *events.Inbox

	regs     []*eventReg
	draining bool
	calling  int // callbacks running (post_local runs them outside drain)

	clusterSubs map[string][]*lua.LFunction // kong.cluster_events callbacks by channel
	deliverF    func(events.Event)
}

// eventReg is one register() call: source "" = every event; no events =
// every event of source.
type eventReg struct {
	fn     *lua.LFunction
	source string
	events []string
}

// OpenEvents installs kong.worker_events into a worker (after Root.Open)
// and gives it an inbox on Root.Events (built when nil). Call CloseEvents
// when the worker goes away, and Drain before the worker runs Lua.
func OpenEvents(in *Instance) {
	bus := in.Root.ensureBus()
	w := &eventsWorker{in: in, bus: bus, inbox: bus.NewInbox(in.WorkerID)}
	w.deliverF = w.deliver
	in.events = w
	L := in.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"register":      w.luaRegister,
		"register_weak": w.luaRegister,
		"unregister":    w.luaUnregister,
		"post":          w.luaPost,
		"post_local":    w.luaPostLocal,
		"poll":          w.luaPoll,
		"configure":     func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"configured":    func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
	})
	kong, ok := L.GetGlobal("kong").(*lua.LTable)
	if !ok {
		kong = L.NewTable()
		L.SetGlobal("kong", kong)
	}
	kong.RawSetString("worker_events", t)
}

// Inbox returns a worker's inbox (nil before OpenEvents): the host may
// select on its Ready channel to drain an idle worker.
func Inbox(in *Instance) *events.Inbox {
	if in.events == nil {
		return nil
	}
	return in.events.inbox
}

// CloseEvents detaches a worker from the bus; its pending events are
// dropped. Its pending ngx.timer timers first run with premature = true
// (closeTimers, bounded in time).
func CloseEvents(in *Instance) {
	closeTimers(in)
	if w := in.events; w != nil {
		w.inbox.Close()
		in.events = nil
	}
}

// Drain runs the worker events waiting in this worker's inbox. The host
// calls it before it runs Lua in the worker (request, timer) and when the
// inbox's Ready fires while the worker is idle. Not reentrant: a Drain
// inside a callback returns at once (the outer one goes on). The due
// ngx.timer callbacks run after the events (ngx_timer.go).
func Drain(in *Instance) {
	if w := in.events; w != nil {
		w.drain()
	}
	in.runTimers()
}

// drain runs the callbacks in phase "timer", as Kong's event loop
// (lua-resty-events) runs them in a timer: a callback may use cosockets
// and ngx.sleep whatever phase the worker last ran.
func (w *eventsWorker) drain() {
	if w.draining || w.calling > 0 {
		return
	}
	w.draining = true
	phase := w.in.Phase
	w.in.Phase = "timer"
	defer func() { w.draining, w.in.Phase = false, phase }()
	w.inbox.Drain(w.deliverF)
}

// deliver runs this worker's callbacks for one event of its inbox.
func (w *eventsWorker) deliver(ev events.Event) {
	L := w.in.L
	switch d := ev.Data.(type) {
	case *kongdb.CrudEvent:
		// A write made outside the workers: this worker stands for Kong's
		// Admin API worker.
		w.deliverCrud(d)
		w.dispatchDaoCrud(d)
		return
	case lua.LValue:
		// post_local data, by reference (never crosses workers).
		w.dispatch(ev.Source, ev.Event, d, pidValue(ev.PID))
		return
	}
	if ev.Source == clusterSource {
		w.deliverCluster(ev.Event, ev.Data)
		return
	}
	if ev.Source == events.OverflowSource && ev.Event == events.OverflowEvent {
		w.in.Root.Log(LogErr, "worker-events: inbox full, dropped "+bind.FormatNumber(toFloat(ev.Data))+" events")
	}
	w.dispatch(ev.Source, ev.Event, bind.FromValue(L, ev.Data, nil), pidValue(ev.PID))
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// pidValue is the 4th callback argument: the posting worker's id, nil for
// events posted by Go code.
func pidValue(pid int) lua.LValue {
	if pid < 0 {
		return lua.LNil
	}
	return lua.LNumber(pid)
}

// deliverCrud posts, locally, the "crud" events of a DAO write (Kong's
// runloop re-posts of "dao:crud"): "crud"/"<table or name>" and
// "crud"/"<name>:<op>" with { operation, entity, old_entity, schema }.
func (w *eventsWorker) deliverCrud(ev *kongdb.CrudEvent) {
	if !w.hasSource("crud") {
		return
	}
	data := w.crudData(ev)
	ch := crudChannel(ev)
	w.dispatch("crud", ch, data, lua.LNil)
	w.dispatch("crud", ch+":"+ev.Operation, data, lua.LNil)
}

// hasSource reports whether a callback would receive events of source.
func (w *eventsWorker) hasSource(source string) bool {
	for _, r := range w.regs {
		if r.source == "" || r.source == source {
			return true
		}
	}
	return false
}

// nilValue is lua.LNil as an LValue (the pid of local events).
var nilValue lua.LValue = lua.LNil

// crudData is the Lua data of a CRUD event.
func (w *eventsWorker) crudData(ev *kongdb.CrudEvent) *lua.LTable {
	L := w.in.L
	data := L.CreateTable(0, 4)
	data.RawSetString("operation", lua.LString(ev.Operation))
	if ev.Entity != nil {
		data.RawSetString("entity", bind.FromValue(L, map[string]any(ev.Entity), nil))
	}
	if ev.OldEntity != nil {
		data.RawSetString("old_entity", bind.FromValue(L, map[string]any(ev.OldEntity), nil))
	}
	if ev.Schema != nil {
		data.RawSetString("schema", w.schemaValue(ev))
	}
	return data
}

// crudChannel is schema.table or schema.name.
func crudChannel(ev *kongdb.CrudEvent) string {
	if ev.Schema == nil {
		return ""
	}
	return ev.Schema.Table()
}

// schemaValue is the entity's schema object as kong.db shows it in this
// worker, or a table with its name when kong.db is not installed.
func (w *eventsWorker) schemaValue(ev *kongdb.CrudEvent) lua.LValue {
	if st := w.in.db; st != nil {
		if obj := st.schemaObject(ev.Schema); obj != nil {
			return obj
		}
	}
	t := w.in.L.NewTable()
	t.RawSetString("name", lua.LString(ev.Schema.Name))
	if ev.Schema.TableName != "" {
		t.RawSetString("table", lua.LString(ev.Schema.TableName))
	}
	return t
}

// dispatch calls every matching callback with (data, event, source, pid):
// those registered for everything, then those for the whole source, then
// those for this event, each group in registration order.
func (w *eventsWorker) dispatch(source, event string, data, pid lua.LValue) {
	regs := w.regs // register/unregister inside a callback replace the slice
	for pass := 0; pass < 3; pass++ {
		for _, r := range regs {
			switch pass {
			case 0:
				if r.source != "" {
					continue
				}
			case 1:
				if r.source != source || len(r.events) > 0 {
					continue
				}
			case 2:
				if r.source != source || !containsString(r.events, event) {
					continue
				}
			}
			w.call(r.fn, source, event, data, pid)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (w *eventsWorker) call(fn *lua.LFunction, source, event string, data, pid lua.LValue) {
	L := w.in.L
	top := L.GetTop()
	L.Push(fn)
	L.Push(data)
	L.Push(lua.LString(event))
	L.Push(lua.LString(source))
	L.Push(pid)
	w.calling++
	err := luavm.PCall(L, 4, 0, false)
	w.calling--
	if err != nil {
		pidS := "nil"
		if n, ok := pid.(lua.LNumber); ok {
			pidS = strconv.Itoa(int(n))
		}
		w.in.Root.Log(LogErr, "worker-events: event callback failed; source="+source+", event="+event+
			", pid="+pidS+" error='"+luaErrMessage(err)+"'")
	}
	L.SetTop(top)
}

// luaErrMessage is a Lua error's message without traceback.
func luaErrMessage(err error) string {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		return ae.Object.String()
	}
	return err.Error()
}

// luaRegister is register(callback, source?, event1?, ...).
func (w *eventsWorker) luaRegister(L *lua.LState) int {
	fn := L.CheckFunction(1)
	r := &eventReg{fn: fn}
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		r.source = luavm.CheckString(L, 2)
		for i := 3; i <= L.GetTop(); i++ {
			r.events = append(r.events, luavm.CheckString(L, i))
		}
	}
	w.regs = append(append([]*eventReg(nil), w.regs...), r)
	L.Push(lua.LTrue)
	return 1
}

// luaUnregister is unregister(callback, source?, event...): removes the
// matching registrations; true when one was found.
func (w *eventsWorker) luaUnregister(L *lua.LState) int {
	fn := L.CheckFunction(1)
	source := ""
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		source = luavm.CheckString(L, 2)
	}
	var events []string
	for i := 3; i <= L.GetTop(); i++ {
		events = append(events, luavm.CheckString(L, i))
	}
	found := false
	next := make([]*eventReg, 0, len(w.regs))
	for _, r := range w.regs {
		if r.fn == fn && r.source == source && (len(events) == 0 || sameStrings(r.events, events)) {
			found = true
			continue
		}
		next = append(next, r)
	}
	w.regs = next
	L.Push(lua.LBool(found))
	return 1
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func checkSourceEvent(L *lua.LState) (string, string, bool) {
	source, ok1 := L.Get(1).(lua.LString)
	event, ok2 := L.Get(2).(lua.LString)
	if !ok1 || source == "" {
		L.Push(lua.LNil)
		L.Push(lua.LString("source is required"))
		return "", "", false
	}
	if !ok2 || event == "" {
		L.Push(lua.LNil)
		L.Push(lua.LString("event is required"))
		return "", "", false
	}
	return string(source), string(event), true
}

// luaPost is post(source, event, data, unique?): to every worker of the
// node including this one (whose callbacks run before post returns); with
// unique, to one worker only, repeats within the bus's unique timeout
// dropped. Returns "done", or nil and an error.
func (w *eventsWorker) luaPost(L *lua.LState) int {
	source, event, ok := checkSourceEvent(L)
	if !ok {
		return 2
	}
	data, err := bind.ToValue(L, L.Get(3), nil)
	if err != nil {
		return bind.Fail(L, "failed to publish event: "+err.Error())
	}
	if u, ok := L.Get(4).(lua.LString); ok && u != "" {
		_, err = w.bus.PostUnique(w.in.WorkerID, source, event, data, string(u))
	} else {
		err = w.bus.Post(w.in.WorkerID, source, event, data)
	}
	if err != nil {
		return bind.Fail(L, "failed to publish event: "+err.Error())
	}
	w.drain()
	L.Push(lua.LString("done"))
	return 1
}

// luaPostLocal is post_local(source, event, data): this worker only, data
// by reference, callbacks run before it returns.
func (w *eventsWorker) luaPostLocal(L *lua.LState) int {
	source, event, ok := checkSourceEvent(L)
	if !ok {
		return 2
	}
	data := L.Get(3)
	w.dispatch(source, event, data, lua.LNil)
	_ = w.bus.PostLocal(noWorker, source, event, data) // Go handlers
	L.Push(lua.LString("done"))
	return 1
}

// luaPoll is poll(): runs this worker's pending events now; "recursive"
// from inside a callback.
func (w *eventsWorker) luaPoll(L *lua.LState) int {
	if w.draining || w.calling > 0 {
		L.Push(lua.LString("recursive"))
		return 1
	}
	w.drain()
	L.Push(lua.LString("done"))
	return 1
}
