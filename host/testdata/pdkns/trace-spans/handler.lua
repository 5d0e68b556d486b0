-- trace-spans: instruments its phases with a tracer of its own, as plugins
-- do with kong.tracing.new, and in log lists the request's spans through
-- process_span (as Kong's opentelemetry plugin collects them) into
-- ngx.shared.kong under "spans <path>".
local H = { PRIORITY = 1, VERSION = "1.0.0" }

local tracer
local function get()
  tracer = tracer or kong.tracing.new("luahost-e2e")
  return tracer
end

function H:access(conf)
  local t = get()
  local root = t.start_span("access " .. kong.request.get_path(), { span_kind = 2 })
  t.set_active_span(root)
  local child = t.start_span("child")
  child:set_attribute("path", kong.request.get_path())
  child:finish()
end

function H:header_filter(conf)
  local t = get()
  t.start_span("header_filter"):finish()
  t.get_root_span():finish()
end

function H:log(conf)
  local t = get()
  local root = t.get_root_span()
  local out = {}
  t.process_span(function(span)
    local rel = span.parent_id == nil and "root" or span.parent_id == root.span_id and "under-root" or "other"
    out[#out + 1] = table.concat({ span.name, rel, #span.trace_id, #span.span_id,
      tostring(span.trace_id == root.trace_id), tostring(span.end_time_ns >= span.start_time_ns) }, "/")
  end)
  out[#out + 1] = "global=" .. kong.tracing.name
  ngx.shared.kong:set("spans " .. kong.request.get_path(), table.concat(out, ";"))
end

return H
