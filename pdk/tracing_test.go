package pdk

import (
	"strings"
	"testing"
	"time"
)

// Kong's default kong.tracing is the noop tracer: its spans do nothing and
// nothing is kept.
func TestKongTracingNoop(t *testing.T) {
	in, _ := newShimState(t)
	in.Phase = "access"
	got := strings.Join(results(t, in, `
local span = kong.tracing.start_span("x")
span:set_attribute("a", 1) span:add_event("e") span:record_error("boom") span:set_status(2) span:finish()
span.name = "ignored"
local n = 0 for _ in span:each_baggage_item() do n = n + 1 end
kong.tracing.set_active_span(span)
return kong.tracing.name, tostring(span.is_recording), tostring(span.name), n,
  tostring((kong.tracing.active_span())), tostring((kong.tracing.get_spans())), tostring((kong.tracing.process_span(print))),
  kong.tracing.spans_table_key, tostring(ngx.ctx.KONG_SPANS), span == kong.tracing.create_span()`), " ")
	if want := "noop false nil 0 nil nil nil noop nil true"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// kong.tracing.new's spans: Kong's ids, parent links through the active
// span, times, attributes, events, status; kept in ngx.ctx per request.
func TestKongTracingSpans(t *testing.T) {
	in, sink := newShimState(t)
	now := time.Unix(1700000000, 5)
	in.Root.Now = func() time.Time { return now }
	in.Phase = "access"
	got := strings.Join(results(t, in, `
local tracer = kong.tracing.new("luahost-test")
local root = tracer.start_span("root", { span_kind = 2, attributes = { ["http.method"] = "GET" } })
tracer.set_active_span(root)
local child = tracer.start_span("child")
child:set_attribute("k", "v")
child:add_event("evt", { n = 1 }, 42)
child:record_error("boom")
child:set_status(2)
child:finish(1700000000000000999)
child:finish(1)
root:finish()
local spans = ngx.ctx.KONG_SPANS
return tracer.name, #root.trace_id, #root.span_id, tostring(root.parent_id), root.kind, child.kind,
  child.trace_id == root.trace_id, child.parent_id == root.span_id, child.parent == root,
  root.start_time_ns == 1700000000000000005, child.end_time_ns == 1700000000000000999, root.end_time_ns == root.start_time_ns,
  root.attributes["http.method"], child.attributes.k, child.events[0], child.events[1].name, child.events[1].time_ns,
  child.events[1].attributes.n, child.events[2].attributes["exception.message"], child.status,
  tostring(root.should_sample), tostring(root.linked), spans[0], spans[1] == root, spans[2] == child,
  tostring(tracer.active_span()), tracer.get_root_span() == root, tostring(root.active), tostring(child.is_recording)`), " ")
	want := "luahost-test 16 8 nil 2 1 true true true true true true GET v 2 evt 42 1 boom 2 true true 2 true true nil true nil nil"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := strings.Join(results(t, in, `
local s = kong.tracing.new("x").start_span("late")
s:finish(s.start_time_ns - 1000)
return tostring(s.end_time_ns)`), " "); got != "nil" {
		t.Errorf("finish before start: %s", got)
	}
	if lines := sink.all(); len(lines) != 1 || !strings.HasPrefix(lines[0], "error|invalid span duration: -") || !strings.HasSuffix(lines[0], " for span: late") {
		t.Errorf("log: %q", lines)
	}
	// a new request has no spans
	in.SetCtx(in.L.NewTable())
	if got := strings.Join(results(t, in, `local t = kong.tracing.new("luahost-test") return #t.get_spans(), t.get_spans()[0], tostring(t.active_span())`), " "); got != "0 0 nil" {
		t.Errorf("next request: %s", got)
	}
}

// process_span, in the log phase only, calls the processor with each span
// of the request made by a tracer of that name; outside Kong's tracing
// phases start_span is the noop span and nothing is recorded.
func TestKongTracingProcessSpan(t *testing.T) {
	in, _ := newShimState(t)
	in.Phase = "access"
	run(t, in, "test.lua", `
local a = kong.tracing.new("a")
a.start_span("a1"):finish()
kong.tracing.new("b").start_span("b1")
a.start_span("a2")`)
	if msg := luaErr(t, in, `kong.tracing.new("a").process_span(print)`); msg != "test.lua:1: function cannot be called in access phase (only in: log)" {
		t.Errorf("process_span in access: %s", msg)
	}
	in.Phase = "log"
	if got := str(t, in, `
local names = {}
kong.tracing.new("a").process_span(function(span, sep) names[#names + 1] = span.name .. sep end, ";")
return table.concat(names)`); got != "a1;a2;" {
		t.Errorf("process_span: %q", got)
	}
	if msg := luaErr(t, in, `kong.tracing.new("a").process_span("x")`); msg != "test.lua:1: processor must be a function" {
		t.Errorf("process_span(x): %s", msg)
	}
	in.Phase = "init_worker"
	if got := str(t, in, `local s = kong.tracing.new("a").start_span("w") return tostring(s.is_recording) .. " " .. ngx.ctx.KONG_SPANS[0]`); got != "false 3" {
		t.Errorf("init_worker start_span: %q", got)
	}
}

// Sampling (Kong's trace-id-based sampler), set_should_sample,
// get_sampling_decision, set_global_tracer and the argument errors.
func TestKongTracingSamplingAndErrors(t *testing.T) {
	in, _ := newShimState(t)
	in.Phase = "rewrite"
	cases := map[string]string{
		`return tostring(kong.tracing.new("z", { sampling_rate = 0 }).start_span("s").should_sample)`:                                                                                                           "false",
		`return tostring(kong.tracing.new("o", { sampling_rate = 0.5 }).start_span("s", { should_sample = true }).should_sample)`:                                                                               "true",
		`local t = kong.tracing.new("h") return tostring(t.sampler(string.rep("\0", 16), 0.5)) .. tostring(t.sampler(string.rep("\255", 16), 0.5))`:                                                             "truefalse",
		`local t = kong.tracing.new("h") return select(2, t.sampler("short", 0.5))`:                                                                                                                             "sampling needs trace ID to be longer than 8 bytes to work",
		`local t = kong.tracing.new("h") return select(2, t.sampler("0123456789", "x"))`:                                                                                                                        "invalid fraction",
		`local t = kong.tracing.new("q") local s = t.start_span("s") t:set_should_sample(false) return tostring(s.should_sample)`:                                                                               "false",
		`local t = kong.tracing.new("n", { noop = true }) return t == kong.tracing`:                                                                                                                             "true",
		`local t = kong.tracing.new("g") kong.tracing.set_global_tracer(t) local ok = kong.tracing == t kong.tracing.set_global_tracer(kong.tracing.new("n", { noop = true })) return ok and kong.tracing.name`: "noop",
		`local s = kong.tracing.new("p").start_span("p", { trace_id = "0123456789abcdef", parent_id = "01234567" }) return s.trace_id .. s.parent_id`:                                                           "0123456789abcdef01234567",
	}
	for src, want := range cases {
		if got := str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	// get_sampling_decision: false without a root span; with one and no
	// propagated trace id, the parent's decision; else the sampler's
	in.SetCtx(in.L.NewTable())
	if got := str(t, in, `
local t = kong.tracing.new("d")
local before = t:get_sampling_decision(true, 1)
t.start_span("root")
local parent = t:get_sampling_decision(true, 0)
ngx.ctx.TRACING_CONTEXT.trace_id.raw = string.rep("\255", 16)
return tostring(before) .. tostring(parent) .. tostring(t:get_sampling_decision(true, 0.5)) .. tostring(t:get_sampling_decision(true, 1))`); got != "falsetruefalsetrue" {
		t.Errorf("get_sampling_decision: %q", got)
	}
	// the first 8 bytes read as the machine's (little-endian) uint64, as
	// Kong's ffi cast
	if got := str(t, in, `return kong.tracing.new("h").sampler("\255" .. string.rep("\0", 15), 0.5)`); got != "true" {
		t.Errorf("sampler byte order: %s", got)
	}
	errs := map[string]string{
		`kong.tracing.new("e").start_span("")`:                           "invalid span name",
		`kong.tracing.new("e").start_span(1)`:                            "invalid span name",
		`kong.tracing.new("e").start_span("s", 1)`:                       "invalid options type",
		`kong.tracing.new("e").start_span("s", { start_time_ns = "x" })`: "invalid start time",
		`kong.tracing.new("e").start_span("s", { span_kind = "x" })`:     "invalid start kind",
		`kong.tracing.new("e").start_span("s", { should_sample = 1 })`:   "invalid sampled",
		`kong.tracing.new("e").start_span("s", { attributes = 1 })`:      "invalid attributes",
		`kong.tracing.new("e").start_span("s"):set_attribute(1, 1)`:      "invalid key",
		`kong.tracing.new("e").start_span("s"):add_event(1)`:             "invalid name",
		`kong.tracing.new("e").start_span("s"):add_event("n", 1)`:        "invalid attribute",
		`kong.tracing.new("e").start_span("s"):set_status("x")`:          "invalid status",
		`kong.tracing.new("e").start_span("s"):finish("x")`:              "invalid span end time",
		`kong.tracing.set_global_tracer({})`:                             "invalid tracer",
	}
	for src, want := range errs {
		if got := luaErr(t, in, src); got != "test.lua:1: "+want {
			t.Errorf("%s raised %q, want %q", src, got, want)
		}
	}
}
