package pdk

// kong.tracing (Kong's kong/pdk/tracing.lua): the noop tracer by default,
// and kong.tracing.new(name, options) for a tracer whose spans are plain
// tables with Kong's fields (trace_id and span_id: 16 and 8 random bytes;
// parent, parent_id, name, kind, start_time_ns, end_time_ns, attributes,
// events, status, should_sample, tracer, linked, active), kept per request
// in ngx.ctx under Kong's keys ("<namespace>_SPANS" with its count at [0],
// "<namespace>_active_span"), so that process_span in the log phase
// iterates the request's spans. luahost does not instrument its own work
// (Kong's kong.observability.tracing.instrumentation): the spans are the
// plugins'. Span pooling (tablepool) is not done: release does nothing.

import (
	"crypto/rand"
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// spanKindInternal is Kong's SPAN_KIND.INTERNAL, a span's default kind.
const spanKindInternal = 1

// tracingPhases are Kong's VALID_TRACING_PHASES (ngx.get_phase names):
// elsewhere start_span answers the noop span and the active span is none.
var tracingPhases = map[string]bool{
	"ssl_cert": true, "rewrite": true, "access": true, "header_filter": true,
	"body_filter": true, "log": true, "content": true,
}

// tracing is one worker's kong.tracing: the shared metatables and the
// noop span and tracer, made once per state.
type tracing struct {
	in         *Instance
	spanMT     *lua.LTable
	tracerMT   *lua.LTable
	noopSpan   *lua.LTable
	noopTracer *lua.LTable
	noop       *lua.LFunction
	memo       map[string]*lua.LTable // Kong's tracer_memo
}

// newKongTracing builds kong.tracing: Kong's global tracer, the noop one.
func (in *Instance) newKongTracing() *lua.LTable {
	L := in.L
	tr := &tracing{in: in, memo: map[string]*lua.LTable{}}
	tr.noop = L.NewFunction(func(*lua.LState) int { return 0 })

	tr.noopSpan = L.CreateTable(0, 7)
	tr.noopSpan.RawSetString("is_recording", lua.LFalse)
	for _, m := range []string{"finish", "set_attribute", "add_event", "record_error", "set_status"} {
		tr.noopSpan.RawSetString(m, tr.noop)
	}
	tr.noopSpan.RawSetString("each_baggage_item", L.NewFunction(func(L *lua.LState) int { L.Push(tr.noop); return 1 }))
	nsMT := L.CreateTable(0, 1)
	nsMT.RawSetString("__newindex", tr.noop)
	L.SetMetatable(tr.noopSpan, nsMT)

	tr.spanMT = L.CreateTable(0, 8)
	tr.spanMT.RawSetString("__index", tr.spanMT)
	L.SetFuncs(tr.spanMT, map[string]lua.LGFunction{
		"finish":        tr.spanFinish,
		"set_attribute": tr.spanSetAttribute,
		"add_event":     tr.spanAddEvent,
		"record_error":  tr.spanRecordError,
		"set_status":    tr.spanSetStatus,
		"release":       func(*lua.LState) int { return 0 },
		"each_baggage_item": func(L *lua.LState) int {
			L.Push(tr.noop)
			return 1
		},
	})

	newTracer := L.NewFunction(tr.newTracer)
	setGlobal := L.NewFunction(tr.setGlobalTracer)
	call := L.NewFunction(func(L *lua.LState) int {
		// __call(_, ...): new_tracer(...)
		L.Remove(1)
		return tr.newTracer(L)
	})
	tr.tracerMT = L.CreateTable(0, 4)
	tr.tracerMT.RawSetString("__index", tr.tracerMT)
	tr.tracerMT.RawSetString("new", newTracer)
	tr.tracerMT.RawSetString("set_global_tracer", setGlobal)
	tr.tracerMT.RawSetString("__call", call)

	nt := L.CreateTable(0, 16)
	nt.RawSetString("name", lua.LString("noop"))
	spanFn := L.NewFunction(func(L *lua.LState) int { L.Push(tr.noopSpan); return 1 })
	nt.RawSetString("start_span", spanFn)
	nt.RawSetString("create_span", spanFn)
	for _, m := range []string{"get_spans", "get_root_span", "init_spans", "link_span", "active_span",
		"set_active_span", "process_span", "set_should_sample", "get_sampling_decision"} {
		nt.RawSetString(m, tr.noop)
	}
	nt.RawSetString("spans_table_key", lua.LString("noop"))
	nt.RawSetString("new", newTracer)
	nt.RawSetString("set_global_tracer", setGlobal)
	ntMT := L.CreateTable(0, 2)
	ntMT.RawSetString("__call", call)
	ntMT.RawSetString("__newindex", tr.noop)
	L.SetMetatable(nt, ntMT)
	tr.noopTracer = nt
	return nt
}

// nowNS is Kong's time_ns: the wall clock in nanoseconds.
func (tr *tracing) nowNS() lua.LNumber { return lua.LNumber(tr.in.Root.now().UnixNano()) }

func randBytes(n int) lua.LString {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return lua.LString(b)
}

// newTracer is new_tracer(name, options).
func (tr *tracing) newTracer(L *lua.LState) int {
	name := L.Get(1)
	if !lua.LVAsBool(name) {
		name = lua.LString("default")
	}
	opts := L.Get(2)
	namespace := lua.LValue(lua.LString("KONG"))
	if lua.LVAsBool(opts) {
		if ns := L.GetField(opts, "namespace"); lua.LVAsBool(ns) {
			namespace = ns
		}
	}
	cacheKey := L.ToStringMeta(namespace).String() + "_" + L.ToStringMeta(name).String()
	if t, ok := tr.memo[cacheKey]; ok {
		L.Push(t)
		return 1
	}
	o, _ := opts.(*lua.LTable)
	if o == nil {
		o = L.NewTable()
	}
	if lua.LVAsBool(o.RawGetString("noop")) {
		L.Push(tr.noopTracer)
		return 1
	}
	rate := o.RawGetString("sampling_rate")
	if !lua.LVAsBool(rate) {
		rate = lua.LNumber(1.0)
		o.RawSetString("sampling_rate", rate)
	}
	ns := L.ToStringMeta(namespace).String()
	t := &tracer{tr: tr, name: name, rate: rate,
		activeKey: lua.LString(ns + "_active_span"), spansKey: lua.LString(ns + "_SPANS")}
	self := L.CreateTable(0, 16)
	t.self = self
	self.RawSetString("name", name)
	self.RawSetString("active_span_key", t.activeKey)
	self.RawSetString("spans_table_key", t.spansKey)
	L.SetFuncs(self, map[string]lua.LGFunction{
		"sampler":               t.sampler,
		"active_span":           t.activeSpan,
		"set_active_span":       t.setActiveSpan,
		"start_span":            t.startSpan,
		"create_span":           tr.createSpanLua,
		"link_span":             tr.linkSpanLua,
		"init_spans":            func(L *lua.LState) int { L.Push(t.initSpans()); return 1 },
		"get_spans":             func(L *lua.LState) int { L.Push(t.getSpans()); return 1 },
		"get_root_span":         func(L *lua.LState) int { L.Push(t.getSpans().RawGetInt(1)); return 1 },
		"process_span":          t.processSpan,
		"set_should_sample":     t.setShouldSample,
		"get_sampling_decision": t.getSamplingDecision,
	})
	L.SetMetatable(self, tr.tracerMT)
	// Kong memoizes under the name while it looks up namespace_name
	tr.memo[L.ToStringMeta(name).String()] = self
	L.Push(self)
	return 1
}

// setGlobalTracer is set_global_tracer(tracer): kong.tracing becomes it.
func (tr *tracing) setGlobalTracer(L *lua.LState) int {
	t, ok := L.Get(1).(*lua.LTable)
	if !ok || (L.GetMetatable(t) != tr.tracerMT && L.GetField(t, "name") != lua.LString("noop")) {
		bind.RaiseAtCaller(L, "invalid tracer")
	}
	tr.in.kong.RawSetString("tracing", t)
	return 0
}

// validateSpanOptions is Kong's validate_span_options.
func validateSpanOptions(L *lua.LState, opts lua.LValue) *lua.LTable {
	if opts == lua.LNil {
		return nil
	}
	o, ok := opts.(*lua.LTable)
	if !ok {
		bind.RaiseAtCaller(L, "invalid options type")
	}
	check := func(field string, typ lua.LValueType, msg string) {
		if v := L.GetField(o, field); v != lua.LNil && v.Type() != typ {
			bind.RaiseAtCaller(L, msg)
		}
	}
	check("start_time_ns", lua.LTNumber, "invalid start time")
	check("span_kind", lua.LTNumber, "invalid start kind")
	check("should_sample", lua.LTBool, "invalid sampled")
	check("attributes", lua.LTTable, "invalid attributes")
	return o
}

// field reads t[k] through metatables; nil for a nil t.
func field(L *lua.LState, t lua.LValue, k string) lua.LValue {
	if t == lua.LNil {
		return lua.LNil
	}
	return L.GetField(t, k)
}

// luaOr is Lua's a or b.
func luaOr(a, b lua.LValue) lua.LValue {
	if lua.LVAsBool(a) {
		return a
	}
	return b
}

// callField calls t.name(args...) and returns its first result.
func callField(L *lua.LState, t lua.LValue, name string, args ...lua.LValue) lua.LValue {
	fn := L.GetField(t, name)
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), 1)
	v := L.Get(-1)
	L.Pop(1)
	return v
}

// createSpan is Kong's create_span(tracer, options).
func (tr *tracing) createSpan(L *lua.LState, tracerV, opts lua.LValue) *lua.LTable {
	o := validateSpanOptions(L, opts)
	var ov lua.LValue = lua.LNil
	if o != nil {
		ov = o
	}
	span := L.CreateTable(0, 12)
	parent := field(L, ov, "parent")
	if !lua.LVAsBool(parent) && lua.LVAsBool(tracerV) {
		parent = callField(L, tracerV, "active_span")
	}
	if lua.LVAsBool(parent) {
		span.RawSetString("parent", parent)
	} else {
		parent = lua.LNil
	}
	traceID := luaOr(field(L, parent, "trace_id"), field(L, ov, "trace_id"))
	if !lua.LVAsBool(traceID) {
		traceID = randBytes(16)
	}
	var sampled lua.LValue
	if ps := field(L, parent, "should_sample"); parent != lua.LNil && ps != lua.LNil {
		sampled = ps
	} else if optSample := field(L, ov, "should_sample"); optSample != lua.LNil {
		sampled = optSample
	} else if !lua.LVAsBool(tracerV) {
		sampled = lua.LFalse
	} else {
		L.Push(L.GetField(tracerV, "sampler"))
		L.Push(traceID)
		L.Call(1, 2)
		s, err := L.Get(-2), L.Get(-1)
		L.Pop(2)
		sampled = s
		if lua.LVAsBool(err) {
			sampled = lua.LFalse
			tr.in.Log(LogErr, "sampler failure: "+L.ToStringMeta(err).String())
		}
	}
	span.RawSetString("parent_id", luaOr(field(L, parent, "span_id"), field(L, ov, "parent_id")))
	span.RawSetString("tracer", tracerV)
	span.RawSetString("span_id", randBytes(8))
	span.RawSetString("trace_id", traceID)
	span.RawSetString("kind", luaOr(field(L, ov, "span_kind"), lua.LNumber(spanKindInternal)))
	span.RawSetString("should_sample", sampled)
	L.SetMetatable(span, tr.spanMT)
	return span
}

// linkSpan is Kong's link_span(tracer, span, name, options): the span
// starts and joins the request's spans.
func (tr *tracing) linkSpan(L *lua.LState, tracerV lua.LValue, span *lua.LTable, name, opts lua.LValue) *lua.LTable {
	if lua.LVAsBool(tracerV) && tracerV.Type() != lua.LTTable {
		bind.RaiseAtCaller(L, "invalid tracer")
	}
	o := validateSpanOptions(L, opts)
	var ov lua.LValue = lua.LNil
	if o != nil {
		ov = o
	}
	if !lua.LVAsBool(span.RawGetString("tracer")) {
		span.RawSetString("tracer", tracerV)
	}
	span.RawSetString("start_time_ns", luaOr(field(L, ov, "start_time_ns"), tr.nowNS()))
	span.RawSetString("attributes", field(L, ov, "attributes"))
	span.RawSetString("name", name)
	span.RawSetString("linked", lua.LTrue)
	spans, ok := callField(L, tracerV, "get_spans").(*lua.LTable)
	if !ok {
		L.RaiseError("attempt to index a nil value (local 'spans')")
	}
	n := int(lua.LVAsNumber(spans.RawGet(lua.LNumber(0)))) + 1
	spans.RawSetInt(n, span)
	spans.RawSet(lua.LNumber(0), lua.LNumber(n))
	return span
}

func (tr *tracing) createSpanLua(L *lua.LState) int {
	L.Push(tr.createSpan(L, L.Get(1), L.Get(2)))
	return 1
}

func (tr *tracing) linkSpanLua(L *lua.LState) int {
	span, ok := L.Get(2).(*lua.LTable)
	if !ok {
		L.ArgError(2, "table expected")
	}
	L.Push(tr.linkSpan(L, L.Get(1), span, L.Get(3), L.Get(4)))
	return 1
}

// tracer is one kong.tracing.new tracer.
type tracer struct {
	tr        *tracing
	self      *lua.LTable
	name      lua.LValue
	rate      lua.LValue
	activeKey lua.LString
	spansKey  lua.LString
}

func (t *tracer) inPhase() bool { return tracingPhases[t.tr.in.Phase] }

// sampler is get_trace_id_based_sampler's function(trace_id, rate): the
// first 8 bytes of the trace id, read as the machine's uint64, below
// rate * 2^64.
func (t *tracer) sampler(L *lua.LState) int {
	traceID := L.Get(1)
	rate := L.Get(2)
	if rate == lua.LNil {
		rate = t.rate
	}
	r, ok := rate.(lua.LNumber)
	if !ok {
		return bind.Fail(L, "invalid fraction")
	}
	switch {
	case r >= 1:
		L.Push(lua.LTrue)
		return 1
	case r <= 0:
		L.Push(lua.LFalse)
		return 1
	}
	id := L.ToStringMeta(traceID).String()
	if len(id) < 8 {
		return bind.Fail(L, "sampling needs trace ID to be longer than 8 bytes to work")
	}
	v := binary.LittleEndian.Uint64([]byte(id[:8]))
	L.Push(lua.LBool(float64(v) < float64(r)*math.Pow(2, 64)))
	return 1
}

func (t *tracer) activeSpan(L *lua.LState) int {
	if !t.inPhase() {
		return 0
	}
	L.Push(t.tr.in.CurrentCtx().RawGet(t.activeKey))
	return 1
}

func (t *tracer) setActiveSpan(L *lua.LState) int {
	if !t.inPhase() {
		return 0
	}
	span := L.Get(1)
	if lua.LVAsBool(span) {
		L.SetField(span, "active", lua.LTrue)
	}
	t.tr.in.CurrentCtx().RawSet(t.activeKey, span)
	return 0
}

func (t *tracer) startSpan(L *lua.LState) int {
	if !t.inPhase() {
		L.Push(t.tr.noopSpan)
		return 1
	}
	name := L.Get(1)
	if s, ok := name.(lua.LString); !ok || len(s) == 0 {
		bind.RaiseAtCaller(L, "invalid span name")
	}
	opts := L.Get(2)
	span := t.tr.createSpan(L, t.self, opts)
	L.Push(t.tr.linkSpan(L, t.self, span, name, opts))
	return 1
}

func (t *tracer) initSpans() *lua.LTable {
	spans := t.tr.in.L.CreateTable(10, 0)
	spans.RawSet(lua.LNumber(0), lua.LNumber(0))
	t.tr.in.CurrentCtx().RawSet(t.spansKey, spans)
	return spans
}

func (t *tracer) getSpans() *lua.LTable {
	if s, ok := t.tr.in.CurrentCtx().RawGet(t.spansKey).(*lua.LTable); ok {
		return s
	}
	return t.initSpans()
}

// eachSpan calls fn on spans[1], spans[2] ... as ipairs does.
func eachSpan(spans *lua.LTable, fn func(span lua.LValue)) {
	for i := 1; ; i++ {
		s := spans.RawGetInt(i)
		if s == lua.LNil {
			return
		}
		fn(s)
	}
}

// processSpan is process_span(processor, ...): in the log phase, processor
// (span, ...) for every span of the request this tracer made.
func (t *tracer) processSpan(L *lua.LState) int {
	switch ph := t.tr.in.Phase; ph {
	case "log":
	case "init", "timer", "":
		bind.RaiseAtCaller(L, "no phase in ngx.ctx.KONG_PHASE, (need one of log)")
	default:
		if ph == "ssl_cert" {
			ph = "certificate"
		}
		bind.RaiseAtCaller(L, "function cannot be called in "+ph+" phase (only in: log)")
	}
	fn, ok := L.Get(1).(*lua.LFunction)
	if !ok {
		bind.RaiseAtCaller(L, "processor must be a function")
	}
	extra := make([]lua.LValue, 0, L.GetTop()-1)
	for i := 2; i <= L.GetTop(); i++ {
		extra = append(extra, L.Get(i))
	}
	eachSpan(t.getSpans(), func(span lua.LValue) {
		tv := L.GetField(span, "tracer")
		if !lua.LVAsBool(tv) || !L.Equal(L.GetField(tv, "name"), t.name) {
			return
		}
		L.Push(fn)
		L.Push(span)
		for _, a := range extra {
			L.Push(a)
		}
		L.Call(1+len(extra), 0)
	})
	return 0
}

// setShouldSample is tracer:set_should_sample(v): every recording span of
// the request gets it.
func (t *tracer) setShouldSample(L *lua.LState) int {
	v := L.Get(2)
	eachSpan(t.getSpans(), func(span lua.LValue) {
		if L.GetField(span, "is_recording") != lua.LFalse {
			L.SetField(span, "should_sample", v)
		}
	})
	return 0
}

// getSamplingDecision is tracer:get_sampling_decision(parent_should_sample,
// plugin_sampling_rate).
func (t *tracer) getSamplingDecision(L *lua.LState) int {
	parentSample, pluginRate := L.Get(2), L.Get(3)
	ctx := t.tr.in.CurrentCtx()
	root := t.getSpans().RawGetInt(1)
	// tracing_context.get_raw_trace_id(ctx), creating the context as Kong
	tc, ok := ctx.RawGetString("TRACING_CONTEXT").(*lua.LTable)
	if !ok {
		tc = L.CreateTable(0, 3)
		tid := L.CreateTable(0, 2)
		tid.RawSetString("formatted", L.NewTable())
		tc.RawSetString("trace_id", tid)
		tc.RawSetString("unlinked_spans", L.NewTable())
		ctx.RawSetString("TRACING_CONTEXT", tc)
	}
	traceID := field(L, L.GetField(tc, "trace_id"), "raw")
	rate := pluginRate
	if !lua.LVAsBool(rate) {
		rate = L.GetField(L.GetField(t.tr.in.kong, "configuration"), "tracing_sampling_rate")
	}
	var sampled lua.LValue = lua.LNil
	switch {
	case root == lua.LNil || lua.LVAsBool(field(L, field(L, root, "attributes"), "kong.propagation_only")):
		sampled = lua.LFalse
	case parentSample == lua.LFalse || !lua.LVAsBool(traceID):
		sampled = parentSample
	case lua.LVAsBool(rate):
		L.Push(L.GetField(t.self, "sampler"))
		L.Push(traceID)
		L.Push(rate)
		L.Call(2, 2)
		s, err := L.Get(-2), L.Get(-1)
		L.Pop(2)
		sampled = s
		if lua.LVAsBool(err) {
			sampled = lua.LFalse
			t.tr.in.Log(LogErr, "sampler failure: "+L.ToStringMeta(err).String())
		}
	}
	L.Push(lua.LBool(lua.LVAsBool(sampled)))
	return 1
}

// spanFinish is span:finish(end_time_ns).
func (tr *tracing) spanFinish(L *lua.LState) int {
	self := L.CheckTable(1)
	if L.GetField(self, "end_time_ns") != lua.LNil {
		return 0
	}
	end := L.Get(2)
	if end != lua.LNil && end.Type() != lua.LTNumber {
		bind.RaiseAtCaller(L, "invalid span end time")
	}
	if end != lua.LNil {
		start := lua.LVAsNumber(L.GetField(self, "start_time_ns"))
		if e := end.(lua.LNumber); e < start {
			tr.in.Log(LogErr, "invalid span duration: "+lua.LNumber(e-start).String()+" for span: "+L.ToStringMeta(L.GetField(self, "name")).String())
			return 0
		}
	} else {
		end = tr.nowNS()
	}
	L.SetField(self, "end_time_ns", end)
	if lua.LVAsBool(L.GetField(self, "active")) {
		tv := L.GetField(self, "tracer")
		if callField(L, tv, "active_span") == self {
			L.Push(L.GetField(tv, "set_active_span"))
			L.Push(L.GetField(self, "parent"))
			L.Call(1, 0)
			L.SetField(self, "active", lua.LNil)
		}
	}
	return 0
}

// spanSetAttribute is span:set_attribute(key, value).
func (tr *tracing) spanSetAttribute(L *lua.LState) int {
	self := L.CheckTable(1)
	key := L.Get(2)
	if key.Type() != lua.LTString {
		bind.RaiseAtCaller(L, "invalid key")
	}
	value := L.Get(3)
	switch value.Type() {
	case lua.LTNil, lua.LTString, lua.LTNumber, lua.LTBool, lua.LTTable:
	default:
		tr.in.Log(LogErr, "invalid span attribute value type: "+value.Type().String())
	}
	attrs := L.GetField(self, "attributes")
	if attrs == lua.LNil {
		attrs = L.CreateTable(0, 4)
		L.SetField(self, "attributes", attrs)
	}
	L.SetTable(attrs, key, value)
	return 0
}

// spanAddEvent is span:add_event(name, attributes, time_ns).
func (tr *tracing) spanAddEvent(L *lua.LState) int {
	self := L.CheckTable(1)
	tr.addEvent(L, self, L.Get(2), L.Get(3), L.Get(4))
	return 0
}

func (tr *tracing) addEvent(L *lua.LState, self *lua.LTable, name, attrs, timeNS lua.LValue) {
	if name.Type() != lua.LTString {
		bind.RaiseAtCaller(L, "invalid name")
	}
	if attrs != lua.LNil && attrs.Type() != lua.LTTable {
		bind.RaiseAtCaller(L, "invalid attribute")
	}
	events, ok := L.GetField(self, "events").(*lua.LTable)
	if !ok {
		events = L.CreateTable(4, 0)
		events.RawSet(lua.LNumber(0), lua.LNumber(0))
		L.SetField(self, "events", events)
	}
	obj := L.CreateTable(0, 3)
	obj.RawSetString("name", name)
	obj.RawSetString("time_ns", luaOr(timeNS, tr.nowNS()))
	if attrs != lua.LNil {
		obj.RawSetString("attributes", attrs)
	}
	n := int(lua.LVAsNumber(events.RawGet(lua.LNumber(0)))) + 1
	events.RawSetInt(n, obj)
	events.RawSet(lua.LNumber(0), lua.LNumber(n))
}

// spanRecordError is span:record_error(err): an "exception" event.
func (tr *tracing) spanRecordError(L *lua.LState) int {
	self := L.CheckTable(1)
	attrs := L.CreateTable(0, 1)
	attrs.RawSetString("exception.message", L.ToStringMeta(L.Get(2)))
	tr.addEvent(L, self, lua.LString("exception"), attrs, lua.LNil)
	return 0
}

// spanSetStatus is span:set_status(status).
func (tr *tracing) spanSetStatus(L *lua.LState) int {
	self := L.CheckTable(1)
	if L.Get(2).Type() != lua.LTNumber {
		bind.RaiseAtCaller(L, "invalid status")
	}
	L.SetField(self, "status", L.Get(2))
	return 0
}
