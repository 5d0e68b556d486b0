package pdk

// kong.cluster_events (KONG-REFERENCE §7.2) over kongdb/events.
// ClusterEvents: broadcast(channel, data, delay?) and subscribe(channel,
// callback). As in Kong, where only the node's polling worker runs them, a
// Lua callback runs in one worker per event: the Go poller hands each event
// to one worker's inbox, and that worker runs the callbacks it subscribed
// for the channel (every worker subscribes the same ones in init_worker).

import (
	"context"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb/events"
)

// clusterSource is the worker-event source carrying cluster events to a
// worker.
const clusterSource = "luahost:cluster_events"

// ensureCluster builds Root.ClusterEvents when the host did not: an
// in-process one (memory hub of its own), so broadcast succeeds and reaches
// no other node.
func (r *Root) ensureCluster() *events.ClusterEvents {
	r.ceOnce.Do(func() {
		if r.ClusterEvents != nil {
			return
		}
		c := r.Conf
		if c == nil {
			c = conf.New()
		}
		cfg := events.ClusterConfigFrom(c, r.NodeIDValue())
		cfg.Logger, cfg.Now = r.Logger, r.Now
		ce, err := events.NewMemory(context.Background(), events.NewMemoryHub(r.Now), cfg)
		if err != nil {
			r.Log(LogErr, "could not create cluster events: "+err.Error())
			return
		}
		r.ClusterEvents = ce
	})
	return r.ClusterEvents
}

// OpenClusterEvents installs kong.cluster_events into a worker (after
// OpenEvents), over Root.ClusterEvents (built when nil).
func OpenClusterEvents(in *Instance) {
	r := in.Root
	r.ensureCluster()
	L := in.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"broadcast": func(L *lua.LState) int { return clusterBroadcast(L, in) },
		"subscribe": func(L *lua.LState) int { return clusterSubscribe(L, in) },
	})
	kong, ok := L.GetGlobal("kong").(*lua.LTable)
	if !ok {
		kong = L.NewTable()
		L.SetGlobal("kong", kong)
	}
	kong.RawSetString("cluster_events", t)
}

// clusterBroadcast is cluster_events:broadcast(channel, data, delay?) ->
// true | nil, err.
func clusterBroadcast(L *lua.LState, in *Instance) int {
	channel, ok := L.Get(2).(lua.LString)
	if !ok {
		return bind.Fail(L, "channel must be a string")
	}
	data, ok := L.Get(3).(lua.LString)
	if !ok {
		return bind.Fail(L, "data must be a string")
	}
	var delay time.Duration
	if d := L.Get(4); d != lua.LNil {
		n, ok := d.(lua.LNumber)
		if !ok {
			return bind.Fail(L, "delay must be a number")
		}
		delay = time.Duration(float64(n) * float64(time.Second))
	}
	ce := in.Root.ClusterEvents
	if ce == nil {
		return bind.Fail(L, "could not insert invalidation row: no cluster events")
	}
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ce.Broadcast(ctx, string(channel), string(data), delay); err != nil {
		return bind.Fail(L, err.Error())
	}
	L.Push(lua.LTrue)
	return 1
}

// clusterSubscribe is cluster_events:subscribe(channel, cb, start_polling?)
// -> true | nil, err.
func clusterSubscribe(L *lua.LState, in *Instance) int {
	channel, ok := L.Get(2).(lua.LString)
	if !ok {
		bind.RaiseAtCaller(L, "channel must be a string")
	}
	cb, ok := L.Get(3).(*lua.LFunction)
	if !ok {
		bind.RaiseAtCaller(L, "callback must be a function")
	}
	w := in.events
	if w == nil {
		bind.RaiseAtCaller(L, "kong.cluster_events needs kong.worker_events in this worker")
	}
	r := in.Root
	if w.clusterSubs == nil {
		w.clusterSubs = map[string][]*lua.LFunction{}
	}
	w.clusterSubs[string(channel)] = append(w.clusterSubs[string(channel)], cb)
	if _, loaded := r.ceSubs.LoadOrStore(string(channel), struct{}{}); !loaded {
		ce := r.ClusterEvents
		bus := r.ensureBus()
		ch := string(channel)
		if ce == nil {
			return bind.Fail(L, "no cluster events")
		}
		if err := ce.Subscribe(ch, func(data string) {
			_, _ = bus.PostUnique(-1, clusterSource, ch, data, nextCrudUnique())
		}); err != nil {
			return bind.Fail(L, err.Error())
		}
	}
	L.Push(lua.LTrue)
	return 1
}

// deliverCluster runs this worker's cluster_events callbacks of channel.
func (w *eventsWorker) deliverCluster(channel string, data any) {
	s, _ := data.(string)
	L := w.in.L
	for _, fn := range w.clusterSubs[channel] {
		top := L.GetTop()
		L.Push(fn)
		L.Push(lua.LString(s))
		w.calling++
		err := luavm.PCall(L, 1, 0, false)
		w.calling--
		if err != nil {
			w.in.Root.Log(LogErr, "[cluster_events] callback of channel '"+channel+"' failed: "+luaErrMessage(err))
		}
		L.SetTop(top)
	}
}
