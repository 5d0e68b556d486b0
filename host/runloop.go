package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/events"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/pdk/request"
	"github.com/luahost/luahost/proxy"
)

// Runloop runs the plugins of proxied requests (proxy.Phases), as Kong's
// kong/init.lua phase handlers do with the plugin iterator: rewrite runs
// the global plugins; access walks every configured plugin in priority
// order, looks up its configuration for the route, service and current
// consumer, runs its access handler and collects it for the downstream
// phases; response, header_filter, body_filter and log run what access
// collected, or the global plugins when access never ran.
//
// A request is pinned to a worker at the first phase with a plugin to run,
// until Log, but holds it only while each of its phases runs (reqState);
// a request no plugin applies to uses none.
type Runloop struct {
	h   *Host
	cur atomic.Pointer[Iterator]

	// Debounce gathers a burst of changes into one rebuild (default
	// 50ms); Retry is the wait after a failed rebuild (default 1s).
	Debounce, Retry time.Duration
	// OnRebuild, when set, is told each rebuild's outcome.
	OnRebuild func(version uint64, err error)
	// OnPhase, when set, is told of every plugin handler run for a
	// request (luahost test's per-request trace, shown with a failed
	// assertion on a proxied response); set it before serving.
	OnPhase func(c *proxy.Context, plugin, phase string, exited bool, err error)
	// Strict is worker_consistency = strict: a request's first phase
	// rebuilds an iterator that a change made stale (Kong's
	// get_updated_plugins_iterator) instead of using it until the
	// background rebuild; set it before serving.
	Strict bool

	stale   proxy.Staleness
	version atomic.Uint64
	trig    chan struct{}
	states  sync.Pool
}

// NewRunloop returns the host's runloop; call Rebuild once before serving,
// then Run (and Watch) to follow changes.
func NewRunloop(h *Host) *Runloop {
	r := &Runloop{h: h, trig: make(chan struct{}, 1)}
	r.states.New = func() any { return &reqState{r: r, req: request.NewReq()} }
	return r
}

// Iterator is the current build (nil before the first Rebuild).
func (r *Runloop) Iterator() *Iterator { return r.cur.Load() }

// Rebuild reads the plugins rows and installs a new iterator. On error the
// current one stays (Kong: the stale iterator is used).
func (r *Runloop) Rebuild(ctx context.Context) (*Iterator, error) {
	var it *Iterator
	err := r.stale.Rebuild(func() (err error) {
		it, err = r.rebuild(ctx)
		return err
	})
	return it, err
}

// updated is the iterator a request starts with: with Strict, rebuilt
// first when a change came after the last build (a failed rebuild is
// logged and the stale one used, as Kong does).
func (r *Runloop) updated() *Iterator {
	if r.Strict {
		err := r.stale.Fresh(func() error {
			_, err := r.rebuild(context.Background())
			return err
		})
		if err != nil {
			r.h.Logger.Error("could not rebuild plugins iterator via sync (stale iterator will be used)", "err", err)
		}
	}
	return r.cur.Load()
}

func (r *Runloop) rebuild(ctx context.Context) (*Iterator, error) {
	rows, err := r.h.loadPluginRows(ctx)
	if err != nil {
		return nil, err
	}
	it, err := r.h.buildIterator(ctx, rows, r.version.Load()+1)
	if err != nil {
		return nil, err
	}
	r.version.Store(it.Version)
	r.cur.Store(it)
	// Kong calls configure in every worker after a rebuild: the idle ones
	// now, the busy ones before their next request (begin).
	if r.h.Pool != nil {
		r.h.Pool.eachIdle(func(w *Worker) { w.useIterator(it) })
	}
	return it, nil
}

// Trigger schedules a rebuild; it never blocks.
func (r *Runloop) Trigger() {
	r.stale.Mark()
	select {
	case r.trig <- struct{}{}:
	default:
	}
}

// Watch triggers a rebuild on this node's plugins CRUD events and on the
// invalidation of "plugins_iterator:version" in kong.core_cache (how other
// nodes' writes arrive through cluster_events). It returns the function
// that stops watching.
func (r *Runloop) Watch() (stop func()) {
	var stops []func()
	if bus := r.h.Root.Events; bus != nil {
		id := bus.Register(func(ev events.Event) error {
			if ev.Event == "plugins" || strings.HasPrefix(ev.Event, "plugins:") {
				r.Trigger()
			}
			return nil
		}, "crud")
		stops = append(stops, func() { bus.Unregister(id) })
	}
	if cc := r.h.Root.CoreCache; cc != nil {
		stops = append(stops, cc.OnInvalidate(func(key string) {
			if key == "plugins_iterator:version" {
				r.Trigger()
			}
		}))
		stops = append(stops, cc.OnPurge(r.Trigger))
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

// Run rebuilds on triggers until ctx is done, never on the request path.
func (r *Runloop) Run(ctx context.Context) {
	proxy.RunDebounced(ctx, r.trig, r.Debounce, r.Retry, func(ctx context.Context) error {
		it, err := r.Rebuild(ctx)
		v := r.version.Load()
		if it != nil {
			v = it.Version
		}
		if err != nil {
			r.h.Logger.Error("could not rebuild plugins iterator (stale iterator will be used)", "err", err)
		}
		if r.OnRebuild != nil {
			r.OnRebuild(v, err)
		}
		return err
	}, r.Trigger)
}

// entry is a plugin with the configuration it runs with.
type entry struct {
	p   *iterPlugin
	cfg *PluginConfig
}

// reqState is one request's plugin state (proxy.Context.Plugin), pooled.
// The request is pinned to w for its whole life: ctx (its ngx.ctx, with
// kong.ctx.shared and kong.ctx.plugin inside) and the configuration
// tables are objects of w's Lua state and never leave it. It holds w's
// lock only while one of its phases runs (enter, leave): between phases,
// during the upstream call and while the response is written, w runs
// other requests' phases.
type reqState struct {
	r   *Runloop
	it  *Iterator
	w   *Worker
	req *request.Req // the request PDK's part of this request
	ctx pdk.ReqCtx   // ngx.ctx, in w's state, made when Lua first reads it
	// accessRan: the collecting phase ran; the downstream phases run what
	// it collected instead of the global plugins.
	accessRan bool
	// quiet: access is over and nothing is left for the later phases (no
	// plugin in them, no work of the request PDK's): they do not take the
	// worker, and log only unpins the request.
	quiet bool
	// dead: the worker was stopped by a deadline (or its state broke),
	// in this request or in another one pinned to it: no more Lua runs
	// for this request, and the pool replaces the worker.
	dead      bool
	collected [nPhases][]entry
	// confs are configuration tables of the request's iterator when w
	// moved to a newer build meanwhile (rare: a rebuild while the request
	// was in flight).
	confs map[*PluginConfig]*lua.LTable
}

// attachFor attaches a worker ready to run it: the events waiting for the
// worker taken first, and it moved to it (Kong: configure in the busy
// workers before their next request), never to an older build. poisoned:
// configure ran into its deadline, and that worker was given back to be
// replaced.
func (r *Runloop) attachFor(it *Iterator) (w *Worker, poisoned bool, err error) {
	p := r.h.Pool
	w, err = p.attach()
	if err != nil {
		return nil, false, err
	}
	pdk.Drain(w.In)
	if w.iter == nil || w.iter.Version < it.Version {
		w.useIterator(it)
	}
	if w.poisoned {
		p.detach(w)
		p.unlock(w)
		return nil, true, nil
	}
	return w, false, nil
}

// begin pins c to a worker, binds it and returns the request's state with
// the worker locked (the caller runs the phase, then leave); nil when no
// worker could be had (logged).
func (r *Runloop) begin(c *proxy.Context, it *Iterator, phase request.Phase) *reqState {
	for tries := 0; ; tries++ {
		w, poisoned, err := r.attachFor(it)
		if err != nil {
			r.h.Logger.Error("no worker for the request", "err", err, "request_id", c.RequestID)
			return nil
		}
		if poisoned {
			if tries == 2 {
				r.h.Logger.Error("no worker for the request: configure keeps failing", "request_id", c.RequestID)
				return nil
			}
			continue
		}
		s := r.states.Get().(*reqState)
		s.it, s.w = it, w
		s.ctx.Reset()
		w.In.AttachCtx(&s.ctx)
		w.req.Attach(s.req)
		w.req.BeginAt(c, phase)
		c.Plugin = s
		return s
	}
}

// enter takes the request's worker for one phase and installs the request
// in it (ngx.ctx, the request PDK, the phase). It reports false, the
// worker not held, when the request is dead; a request whose worker was
// poisoned by another request since its last phase dies here (logged):
// its state may be broken, and the worker is being replaced.
func (s *reqState) enter(c *proxy.Context, phase request.Phase) bool {
	if s.dead {
		return false
	}
	w := s.w
	w.busy.Lock()
	if w.poisoned {
		s.dead = true
		s.r.h.Pool.unlock(w)
		s.r.h.Logger.Error("the request's worker was stopped by another request's deadline and is replaced: "+
			"its remaining plugin phases are skipped", "worker", w.ID, "request_id", c.RequestID)
		return false
	}
	w.In.AttachCtx(&s.ctx)
	w.req.Attach(s.req)
	w.req.SetPhase(phase)
	return true
}

// leave ends a phase: the request's ngx.ctx as Lua left it (it may have
// assigned a new table) is kept, and the worker is free for others.
func (s *reqState) leave() {
	w := s.w
	w.In.DetachCtx()
	w.req.Detach()
	if w.poisoned {
		s.dead = true
		s.r.h.Pool.retire(w)
	}
	s.r.h.Pool.unlock(w)
}

// end unbinds the request (after log) and unpins it from its worker;
// locked tells whether the caller holds the worker (after the log phase).
func (s *reqState) end(c *proxy.Context, locked bool) {
	w := s.w
	p := s.r.h.Pool
	if !locked {
		w.busy.Lock()
		w.req.Attach(s.req)
	}
	w.req.End()
	w.req.Detach()
	w.In.DetachCtx()
	w.In.SetPluginName("")
	p.detach(w)
	p.unlock(w)
	s.recycle(c)
}

// finish is end for a quiet request: nothing runs in its worker, which
// is taken only when it was retired meanwhile (to close it if this was
// its last request).
func (s *reqState) finish(c *proxy.Context) {
	w := s.w
	s.req.Finish()
	w.attached.Add(-1)
	if w.retired.Load() {
		w.busy.Lock()
		s.r.h.Pool.unlock(w)
	}
	s.recycle(c)
}

// recycle resets s and puts it back in the pool (c nil: a handshake's).
func (s *reqState) recycle(c *proxy.Context) {
	for i := range s.collected {
		clear(s.collected[i])
		s.collected[i] = s.collected[i][:0]
	}
	r := s.r
	*s = reqState{r: r, req: s.req, collected: s.collected}
	if c != nil {
		c.Plugin = nil
	}
	r.states.Put(s)
}

// conf is cfg's configuration table for this request: the worker's, made
// once per build, when the worker serves the request's build.
func (s *reqState) conf(cfg *PluginConfig) *lua.LTable {
	w := s.w
	if w.iter == s.it {
		return w.confTable(cfg)
	}
	if t := s.confs[cfg]; t != nil {
		return t
	}
	t := w.newConfTable(cfg)
	if s.confs == nil {
		s.confs = map[*PluginConfig]*lua.LTable{}
	}
	s.confs[cfg] = t
	return t
}

// keyPluginID is ngx.ctx.plugin_id, boxed once (luavm.SetKey).
var keyPluginID = luavm.NewKey("plugin_id")

// run calls the handler of one plugin for a phase, with Kong's
// setup_plugin_context (kong.log's prefix and kong.ctx.plugin by plugin
// name, ngx.ctx.plugin_id). It reports whether the plugin produced the
// response, or failed (logged).
func (s *reqState) run(c *proxy.Context, e entry, ph int) (exited, failed bool) {
	w := s.w
	lp := w.plugins[e.p.slot]
	fn := lp.fns[ph]
	if fn == nil {
		return false, false
	}
	conf := s.conf(e.cfg)
	w.In.SetPluginName(e.p.desc.Name)
	w.In.CtxSet(keyPluginID, e.cfg.idL)
	err := w.call(fn, 0, lp.handler, conf)
	w.In.SetPluginName("")
	if err == nil || request.IsExit(err) {
		exited = w.req.Exited()
		if s.r.OnPhase != nil {
			s.r.OnPhase(c, e.p.desc.Name, phaseNames[ph], exited, nil)
		}
		return exited, false
	}
	le := w.errorOf(e.p.desc.Name, phaseNames[ph], err)
	if s.r.OnPhase != nil {
		s.r.OnPhase(c, e.p.desc.Name, phaseNames[ph], false, le)
	}
	s.r.h.Logger.Error(le.Error(), "request_id", c.RequestID)
	if w.poisoned {
		s.dead = true
	}
	return false, true
}

// routeIDs are the ids the configurations are looked up with.
func routeIDs(c *proxy.Context) (route, service string) {
	if !c.Matched {
		return "", ""
	}
	if c.Match.Route != nil {
		route = c.Match.Route.ID
	}
	if c.Match.Service != nil {
		service = c.Match.Service.ID
	}
	return
}

// consumerID is ngx.ctx.authenticated_consumer.id, read as the plugins
// left it (kong.client.authenticate sets it).
func (s *reqState) consumerID() string {
	t, ok := s.w.In.CtxGetString("authenticated_consumer").(*lua.LTable)
	if !ok {
		return ""
	}
	id, _ := t.RawGetString("id").(lua.LString)
	return string(id)
}

// Rewrite runs the global plugins' rewrite handlers (before routing).
func (r *Runloop) Rewrite(c *proxy.Context) bool {
	it := r.updated()
	if it == nil || len(it.globals[phRewrite]) == 0 {
		return false
	}
	s := r.begin(c, it, request.PhaseRewrite)
	if s == nil {
		c.Error(500)
		return true
	}
	defer s.leave()
	for _, g := range it.globals[phRewrite] {
		exited, failed := s.run(c, g, phRewrite)
		if failed {
			c.Error(500)
			return true
		}
		if exited {
			return true
		}
	}
	return false
}

// Access is Kong's collecting phase.
func (r *Runloop) Access(c *proxy.Context) bool {
	s, _ := c.Plugin.(*reqState)
	it := r.cur.Load()
	if s != nil {
		it = s.it
		if !s.enter(c, request.PhaseAccess) {
			// its worker was replaced after rewrite
			c.KongError(500, "An unexpected error occurred")
			return true
		}
	}
	if !it.HasPlugins() {
		if s != nil {
			s.leave()
		}
		return false
	}
	route, service := routeIDs(c)
	// stopped: a plugin produced the response or failed; the remaining
	// plugins are still collected (their filters and log run) but their
	// access handlers do not (Kong's delayed_response).
	stopped := false
	for _, p := range it.plugins {
		consumer := ""
		if s != nil {
			consumer = s.consumerID()
		}
		cfg := p.lookup(route, service, consumer)
		if cfg == nil {
			continue
		}
		if s == nil {
			if s = r.begin(c, it, request.PhaseAccess); s == nil {
				c.KongError(500, "An unexpected error occurred")
				return true
			}
		}
		e := entry{p, cfg}
		for _, ph := range downstreamPhases {
			if p.has[ph] {
				s.collected[ph] = append(s.collected[ph], e)
				if ph == phResponse {
					c.BufferResponse = true
				}
			}
		}
		if stopped || s.dead || !p.has[phAccess] {
			continue
		}
		exited, failed := s.run(c, e, phAccess)
		if failed {
			// Kong: kong.response.error(500, "An unexpected error occurred")
			c.KongError(500, "An unexpected error occurred")
			stopped = true
		} else if exited {
			stopped = true
		}
	}
	if s != nil {
		s.accessRan = true
		if !s.dead {
			s.quiet = len(s.collected[phResponse]) == 0 && len(s.collected[phHeaderFilter]) == 0 &&
				len(s.collected[phBodyFilter]) == 0 && len(s.collected[phLog]) == 0 && s.w.req.Quiet()
			if !s.quiet {
				// the request as plugins left it, before the proxy makes
				// it the upstream's (no later phase reads it when quiet)
				s.w.req.EndAccess()
			}
		}
		s.leave()
	}
	if stopped {
		c.BufferResponse = false
	}
	return stopped
}

// downstream runs a non-collecting phase after access: what access
// collected, else the global plugins. onError, when set, answers the
// request after a plugin failed (the response is not sent yet). last (log)
// unpins the request from its worker after the phase.
func (r *Runloop) downstream(c *proxy.Context, ph int, phase request.Phase, onError func(), last bool) {
	s, _ := c.Plugin.(*reqState)
	var list []entry
	if s != nil {
		if s.quiet {
			if last {
				s.finish(c)
			}
			return
		}
		// every phase of a bound request, plugins or not: the request
		// PDK does Kong's own work there
		if !s.enter(c, phase) {
			// dead: the response goes on as the proxy has it
			if last {
				s.end(c, false)
			}
			return
		}
		if s.accessRan {
			list = s.collected[ph]
		} else {
			list = globalList(s.it, ph)
		}
	} else {
		it := r.cur.Load()
		list = globalList(it, ph)
		if len(list) == 0 {
			return
		}
		if s = r.begin(c, it, phase); s == nil {
			if onError != nil {
				onError()
			}
			return
		}
	}
	for _, e := range list {
		exited, failed := s.run(c, e, ph)
		if failed {
			// the Lua error ends the phase (it propagates out of Kong's
			// phase handler)
			if onError != nil {
				onError()
			}
			break
		}
		if exited {
			break
		}
	}
	if last {
		s.end(c, true)
	} else {
		s.leave()
	}
}

func globalList(it *Iterator, ph int) []entry {
	if it == nil {
		return nil
	}
	return it.globals[ph]
}

// Response runs the collected response handlers (buffered proxying).
func (r *Runloop) Response(c *proxy.Context) {
	r.downstream(c, phResponse, request.PhaseResponse, func() { c.Error(500) }, false)
}

// HeaderFilter runs the header_filter handlers.
func (r *Runloop) HeaderFilter(c *proxy.Context) {
	r.downstream(c, phHeaderFilter, request.PhaseHeaderFilter, nil, false)
}

// BodyFilter runs the body_filter handlers on c.BodyChunk.
func (r *Runloop) BodyFilter(c *proxy.Context) {
	r.downstream(c, phBodyFilter, request.PhaseBodyFilter, nil, false)
}

// Log runs the log handlers, then unpins the request from its worker.
func (r *Runloop) Log(c *proxy.Context) {
	r.downstream(c, phLog, request.PhaseLog, nil, true)
}

// useIterator makes it the worker's iterator: the Lua tables of the
// previous build are dropped, and every plugin with a configure handler
// gets the array of its configurations (nil when it has none), as Kong
// does after each rebuild.
func (w *Worker) useIterator(it *Iterator) {
	if w.iter == it {
		return
	}
	w.iter = it
	if cap(w.confs) >= len(it.Configs) {
		w.confs = w.confs[:len(it.Configs)]
		clear(w.confs)
	} else {
		w.confs = make([]*lua.LTable, len(it.Configs))
	}
	phase := w.In.Phase
	w.In.Phase = "timer"
	defer func() {
		w.In.Phase = phase
		w.In.SetPluginName("")
		// what configure left in ngx.ctx is not the next request's
		w.In.SetCtx(w.L.NewTable())
	}()
	for slot, lp := range w.plugins {
		if lp.configure == nil {
			continue
		}
		var arg lua.LValue = lua.LNil
		if cfgs := it.configurable[slot]; len(cfgs) > 0 {
			t := w.L.CreateTable(len(cfgs), 0)
			for i, cfg := range cfgs {
				t.RawSetInt(i+1, w.confTable(cfg))
			}
			arg = t
		}
		w.In.SetPluginName(lp.desc.Name)
		if err := w.call(lp.configure, 0, lp.handler, arg); err != nil {
			// Kong's line: failed to execute plugin '<name>:configure (<err>)
			le := w.errorOf(lp.desc.Name, "configure", err)
			msg := le.Msg
			if le.File != "" {
				msg = fmt.Sprintf("%s:%d: %s", le.File, le.Line, le.Msg)
			}
			w.host.Logger.Error("failed to execute plugin '"+lp.desc.Name+":configure ("+msg+")", "worker", w.ID)
			var te *TimeoutError
			if errors.As(err, &te) || w.poisoned {
				return
			}
		}
	}
}

// confTable is a configuration as a Lua table in this worker, made once
// per build: the stored config with the fields Kong adds (route_id,
// service_id, consumer_id, plugin_instance_name, __plugin_id, __ws_id,
// __key__, __seq__).
func (w *Worker) confTable(cfg *PluginConfig) *lua.LTable {
	if cfg.Index < len(w.confs) {
		if t := w.confs[cfg.Index]; t != nil {
			return t
		}
	}
	t := w.newConfTable(cfg)
	if cfg.Index < len(w.confs) {
		w.confs[cfg.Index] = t
	}
	return t
}

// newConfTable builds cfg's configuration table in this worker.
func (w *Worker) newConfTable(cfg *PluginConfig) *lua.LTable {
	L := w.L
	t, ok := pdk.FromValue(L, cfg.Config, w.resolveFunc).(*lua.LTable)
	if !ok {
		t = L.NewTable()
	}
	setStr := func(k, v string) {
		if v != "" {
			t.RawSetString(k, lua.LString(v))
		}
	}
	setStr("route_id", cfg.RouteID)
	setStr("service_id", cfg.ServiceID)
	setStr("consumer_id", cfg.ConsumerID)
	setStr("plugin_instance_name", cfg.InstanceName)
	setStr("__plugin_id", cfg.ID)
	setStr("__ws_id", cfg.WsID)
	luavm.InternKeys(t, 8) // read by name on every request (conf.header_name)
	setStr("__key__", cfg.Key)
	t.RawSetString("__seq__", lua.LNumber(cfg.Seq))
	return t
}

// ConsumerID is the request's ngx.ctx.authenticated_consumer.id, else its
// authenticated_credential.id (Kong's hash_on consumer), as the plugins
// left them; false when neither is set or no plugin state is bound.
func ConsumerID(c *proxy.Context) (string, bool) {
	s, ok := c.Plugin.(*reqState)
	if !ok || s.w == nil {
		return "", false
	}
	for _, k := range [...]string{"authenticated_consumer", "authenticated_credential"} {
		if t, ok := s.w.In.CtxGetString(k).(*lua.LTable); ok {
			switch id := t.RawGetString("id").(type) {
			case lua.LString:
				return string(id), true
			case lua.LNumber:
				return id.String(), true
			}
		}
	}
	return "", false
}
