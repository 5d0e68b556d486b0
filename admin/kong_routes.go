package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/cache"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/proxy"
)

// kongRoutes adds Kong's own routes (kong/api/routes/kong.lua, cache.lua,
// plugins.lua's /plugins/enabled, tags.lua).
func (s *Server) kongRoutes() {
	s.rt.add("/").methods["GET"] = s.root
	s.rt.add("/status").methods["GET"] = s.status
	s.rt.add("/timers").methods["GET"] = s.timers
	s.rt.add("/endpoints").methods["GET"] = func(r *Request) {
		r.JSON(200, map[string]any{"data": strsToAny(s.rt.patterns())})
	}
	s.rt.add("/schemas/:name").methods["GET"] = s.entitySchema
	s.rt.add("/schemas/plugins/:name").methods["GET"] = s.pluginSchema
	s.rt.add("/schemas/:db_entity_name/validate").methods["POST"] = func(r *Request) {
		s.validate(r, r.Params["db_entity_name"])
	}
	s.rt.add("/schemas/plugins/validate").methods["POST"] = func(r *Request) { s.validate(r, "plugins") }
	s.rt.add("/plugins/enabled").methods["GET"] = func(r *Request) {
		names := make([]any, 0, len(s.h.Plugins))
		for _, p := range s.h.Plugins {
			names = append(names, p.Name)
		}
		r.JSON(200, map[string]any{"enabled_plugins": names})
	}
	c := s.rt.add("/cache/:key")
	c.methods["GET"] = s.cacheGet
	c.methods["DELETE"] = func(r *Request) {
		key := r.Params["key"]
		if l2 := s.h.Root.Cache; l2 != nil {
			l2.Delete(key)
		}
		if l2 := s.h.Root.CoreCache; l2 != nil {
			l2.Delete(key)
		}
		r.Exit(204, nil)
	}
	s.rt.add("/cache").methods["DELETE"] = func(r *Request) {
		if l2 := s.h.Root.Cache; l2 != nil {
			l2.Purge()
		}
		if l2 := s.h.Root.CoreCache; l2 != nil {
			l2.Purge()
		}
		r.Exit(204, nil)
	}
}

// customRoutes are Kong's kong/api/routes/<entity>.lua changes to the
// generated endpoints that users notice.
func (s *Server) customRoutes() {
	if d := s.db.DAO("consumers"); d != nil {
		if rt, ok := s.rt.all["/consumers"]; ok {
			parent := rt.methods["GET"]
			// /consumers?custom_id=x looks one consumer up
			rt.methods["GET"] = func(r *Request) {
				v, given := r.Query["custom_id"]
				if !given {
					parent(r)
					return
				}
				id, ok := v.(string)
				if !ok || id == "" {
					r.Exit(400, "custom_id must be an unempty string")
					return
				}
				c, err := d.SelectBy(r.Context(), "custom_id", id, baseOptions())
				if err != nil {
					r.Error(err)
					return
				}
				data := []any{}
				if c != nil {
					data = append(data, c)
				}
				r.JSON(200, map[string]any{"data": data, "next": schema.Null})
			}
		}
	}
	if s.db.DAO("tags") != nil {
		s.rt.add("/tags").methods["GET"] = func(r *Request) { s.tags(r, "") }
		s.rt.add("/tags/:tags").methods["GET"] = func(r *Request) { s.tags(r, r.Params["tags"]) }
		delete(s.rt.all["/tags"].methods, "POST")
		for _, p := range []string{"/tags/:tags"} {
			for _, m := range []string{"PUT", "PATCH", "DELETE"} {
				delete(s.rt.all[p].methods, m)
			}
		}
	}
}

// tagRow is one (tag, entity) pair of Kong's tags table, with the tag's
// position in the entity's tags (ordinality, from 1).
type tagRow struct {
	id, name, tag string
	ord           int
}

// tags is Kong's /tags and /tags/:tags (kong/api/routes/tags.lua over the
// tags DAO's page and page_by_tag): the (tag, entity_name, entity_id)
// pairs of every tagged entity, ordered by entity_id then the tag's
// position, paged with Kong's offset (base64 of [entity_id, ordinality],
// [entity_id] for one tag) and next. Kong keeps them in a table filled by
// triggers; here they are read from the entities at each request.
func (s *Server) tags(r *Request, only string) {
	d := s.db.DAO("tags")
	ctx := r.Context()
	if only != "" {
		msg, err := d.Schema.ValidateField(ctx, d.Schema.Field("tag"), only)
		if err != nil {
			r.Error(err)
			return
		}
		if msg != nil {
			r.Error(d.Errors.InvalidUnique("tag", fmt.Sprint(msg)))
			return
		}
	}
	size, err := pageSize(d, r.Query)
	if err != nil {
		r.Error(err)
		return
	}
	n, err := d.PageSizeOf(size)
	if err != nil {
		r.Error(err)
		return
	}
	var afterID string
	afterOrd := 0
	offset, hasOffset := firstString(r.Query["offset"])
	if hasOffset {
		raw, derr := base64.RawStdEncoding.DecodeString(strings.TrimRight(offset, "="))
		if derr != nil {
			r.Error(d.Errors.InvalidOffset(offset, "bad base64 encoding"))
			return
		}
		var tok []any
		if json.Unmarshal(raw, &tok) != nil || len(tok) == 0 {
			r.Error(d.Errors.InvalidOffset(offset, "bad json encoding"))
			return
		}
		id, ok := tok[0].(string)
		if !ok {
			r.Error(d.Errors.InvalidOffset(offset, "bad json encoding"))
			return
		}
		afterID = id
		if len(tok) > 1 {
			f, _ := tok[1].(float64)
			afterOrd = int(f)
		}
	}
	var all []tagRow
	for _, name := range s.db.Names() {
		ed := s.db.DAO(name)
		if ed.Schema.Field("tags") == nil || name == "tags" {
			continue
		}
		it, err := ed.Each(ctx, 1000, map[string]any{"workspace": schema.Null})
		if err != nil {
			r.Error(err)
			return
		}
		for row, err := range it {
			if err != nil {
				r.Error(err)
				return
			}
			id, _ := row["id"].(string)
			tags, _ := row["tags"].([]any)
			for i, t := range tags {
				ts, _ := t.(string)
				if only != "" && ts != only {
					continue
				}
				all = append(all, tagRow{id: id, name: name, tag: ts, ord: i + 1})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].id != all[j].id {
			return all[i].id < all[j].id
		}
		return all[i].ord < all[j].ord
	})
	start := 0
	if hasOffset {
		start = sort.Search(len(all), func(i int) bool {
			e := all[i]
			return e.id > afterID || (only == "" && e.id == afterID && e.ord > afterOrd)
		})
	}
	page := all[start:]
	more := len(page) > n
	if more {
		page = page[:n]
	}
	data := make([]any, len(page))
	for i, e := range page {
		data[i] = map[string]any{"tag": e.tag, "entity_name": e.name, "entity_id": e.id}
	}
	body := map[string]any{"data": data, "next": schema.Null}
	if more {
		last := page[len(page)-1]
		tok := []any{last.id}
		if only == "" {
			tok = append(tok, float64(last.ord))
		}
		b, _ := json.Marshal(tok)
		next := base64.RawStdEncoding.EncodeToString(b)
		body["offset"] = next
		if only != "" {
			body["next"] = "/tags/" + only + "?offset=" + escapeURI(next)
		} else {
			u := "/tags?offset=" + escapeURI(next)
			if t, ok := firstString(r.Query["tags"]); ok {
				u += "&tags=" + escapeURI(t)
			}
			if sz, ok := firstString(r.Query["size"]); ok {
				u += "&size=" + sz
			}
			body["next"] = u
		}
	}
	r.JSON(200, body)
}

func (s *Server) root(r *Request) {
	hostname, _ := os.Hostname()
	available := map[string]any{}
	for _, p := range s.h.Plugins {
		available[p.Name] = map[string]any{"version": p.Version, "priority": float64(p.Priority)}
	}
	enabled := []any{}
	seen := map[string]bool{}
	if d := s.db.DAO("plugins"); d != nil {
		if it, err := d.Each(r.Context(), 1000, map[string]any{"workspace": schema.Null}); err == nil {
			for row, err := range it {
				if err != nil {
					break
				}
				if n, ok := row["name"].(string); ok && !seen[n] {
					seen[n] = true
					enabled = append(enabled, n)
				}
			}
		}
	}
	sort.Slice(enabled, func(i, j int) bool { return enabled[i].(string) < enabled[j].(string) })
	// kong.configuration.remove_sensitive(), with the log level
	cfg := pdk.SafeConfiguration(s.h.Conf)
	if s.h.Conf != nil {
		cfg["log_level"] = strings.ToLower(strings.TrimSpace(s.h.Conf.Get("log_level")))
	}
	timers := map[string]any{"running": 0, "pending": 0}
	if sys, ok := s.h.Root.TimerStats()["sys"].(map[string]any); ok {
		timers = map[string]any{"running": sys["running"], "pending": sys["pending"]}
	}
	version := s.h.Root.VersionString()
	edition := "community"
	if strings.Contains(version, "enterprise") {
		edition = "enterprise"
	}
	r.JSON(200, map[string]any{
		"tagline":       "Welcome to kong",
		"version":       version,
		"edition":       edition,
		"timers":        timers,
		"node_id":       s.h.Root.NodeIDValue(),
		"hostname":      hostname,
		"lua_version":   "Lua 5.1",
		"plugins":       map[string]any{"available_on_server": available, "enabled_in_cluster": enabled},
		"configuration": cfg,
		"pids":          map[string]any{"master": float64(os.Getpid()), "workers": []any{float64(os.Getpid())}},
	})
}

// status is Kong's GET /status (kong/api/routes/health.lua): unit and
// scale checked as bytes_to_str checks them (400 with its message), the
// memory figures kong.node.get_memory_stats gives, the server counters,
// and the database's reachability, or with database = off the
// configuration's hash instead.
func (s *Server) status(r *Request) {
	unit := "m"
	if u, ok := r.Query["unit"].(string); ok {
		unit = u
	}
	var scale lua.LValue = lua.LNil
	if sc, ok := r.Query["scale"].(string); ok {
		if f, ok := luaToNumber(sc); ok {
			scale = lua.LNumber(f)
		}
	}
	if msg := pdk.CheckBytesFormat(lua.LString(unit), scale); msg != "" {
		r.Exit(400, msg)
		return
	}
	memory, err := s.memoryStats(r.Context(), unit, scale)
	if err != nil {
		r.Error(err)
		return
	}
	st := s.h.Pool.Stat()
	// Kong's server block is nginx's, the proxy's connections and
	// requests: the node's proxy when it gives them, else this listener's
	cs := proxy.ConnStats{Accepted: s.stats.accepted.Load(), Handled: s.stats.accepted.Load(),
		Requests: s.stats.handled.Load()}
	if s.opts.ConnStats != nil {
		cs = s.opts.ConnStats()
	}
	body := map[string]any{
		"server": map[string]any{
			"connections_accepted": float64(cs.Accepted),
			"connections_handled":  float64(cs.Handled),
			"total_requests":       float64(cs.Requests),
			"connections_active":   float64(cs.Active),
			"connections_reading":  float64(cs.Reading),
			"connections_writing":  float64(cs.Writing),
			"connections_waiting":  float64(cs.Waiting),
		},
		"memory":  memory,
		"workers": map[string]any{"total": float64(st.Total), "idle": float64(st.Idle), "max": float64(st.Max)},
	}
	if s.opts.ConfigHash != nil {
		hash := s.opts.ConfigHash()
		if hash == "" {
			hash = emptyConfigHash
		}
		body["configuration_hash"] = hash
	} else {
		reachable := true
		if d := s.db.DAO("workspaces"); d != nil {
			if _, _, err := d.Page(r.Context(), 1, nil, nil); err != nil {
				reachable = false
			}
		}
		body["database"] = map[string]any{"reachable": reachable}
	}
	r.JSON(200, body)
}

// emptyConfigHash is Kong's DECLARATIVE_EMPTY_CONFIG_HASH.
const emptyConfigHash = "00000000000000000000000000000000"

// luaToNumber is tonumber(s) for the decimal and hexadecimal forms.
func luaToNumber(s string) (float64, bool) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return f, true
	}
	neg := false
	if t[0] == '-' {
		neg, t = true, t[1:]
	}
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		if n, err := strconv.ParseUint(t[2:], 16, 64); err == nil {
			if neg {
				return -float64(n), true
			}
			return float64(n), true
		}
	}
	return 0, false
}

// memoryStats is kong.node.get_memory_stats(unit, scale), run in a worker,
// as JSON values.
func (s *Server) memoryStats(ctx context.Context, unit string, scale lua.LValue) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, acquireTimeout)
	defer cancel()
	var out map[string]any
	err := s.h.Pool.AcquireFunc(ctx, func(w *host.Worker) error {
		L := w.L
		node, ok := L.GetField(L.GetGlobal("kong"), "node").(*lua.LTable)
		if !ok {
			return errors.New("kong.node is not there")
		}
		if err := L.CallByParam(lua.P{Fn: L.GetField(node, "get_memory_stats"), NRet: 1, Protect: true},
			lua.LString(unit), scale); err != nil {
			return err
		}
		v := L.Get(-1)
		L.Pop(1)
		enc, msg := w.In.JSON().Encode(L, v)
		if msg != "" {
			return errors.New(msg)
		}
		return json.Unmarshal([]byte(enc), &out)
	})
	return out, err
}

// timers is Kong's GET /timers: the answering worker and its kong.timer
// stats (lua-resty-timer-ng's, verbose with the flamegraph). The node's
// workers are states of one process, not nginx workers: it answers as its
// one worker, id 0 of 1, with the timers of all its states
// (pdk.Root.TimerStats), so spec.helpers' wait_timer sees every timer at
// each poll.
func (s *Server) timers(r *Request) {
	r.JSON(200, map[string]any{
		"worker": map[string]any{"id": 0, "count": 1},
		"stats":  s.h.Root.TimerStats(),
	})
}

// jsonableSchema is Kong's schema_to_jsonable: fields and entity_checks,
// functions left out, foreign fields without their schema. As Kong's, a
// field's attributes keep their object form, while any table below them
// that is empty is an array (a record's fields and an array's default
// always are), and NaN and the infinities are "nan", "inf" and "-inf".
func jsonableSchema(sc *schema.Schema) map[string]any {
	m := sc.ToMap()
	checks, _ := m["entity_checks"].([]any)
	fields, _ := m["fields"].([]any)
	return map[string]any{"fields": jsonableFields(fields), "entity_checks": jsonableFields(checks)}
}

// jsonableFields is fields_to_jsonable: a list of { name = attributes }.
func jsonableFields(list []any) []any {
	out := make([]any, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		o := make(map[string]any, len(m))
		for name, fd := range m {
			if _, isFn := fd.(*schema.Func); isFn {
				continue
			}
			o[name] = jsonableData(fd, false)
		}
		out = append(out, o)
	}
	return out
}

// jsonableData is fdata_to_jsonable: v's attributes, a table below the
// field's own (maybe) an array when it is empty.
func jsonableData(v any, maybe bool) any {
	switch x := v.(type) {
	case map[string]any:
		if maybe && len(x) == 0 {
			return []any{}
		}
		typ, _ := x["type"].(string)
		out := make(map[string]any, len(x))
		for k, e := range x {
			if _, isFn := e.(*schema.Func); isFn || k == "schema" {
				continue
			}
			if l, ok := e.([]any); ok && k == "fields" && typ == "record" {
				out[k] = jsonableFields(l)
				continue
			}
			out[k] = jsonableData(e, true)
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if _, isFn := e.(*schema.Func); isFn {
				continue
			}
			out = append(out, jsonableData(e, true))
		}
		return out
	case float64:
		switch {
		case math.IsNaN(x):
			return "nan"
		case math.IsInf(x, 1):
			return "inf"
		case math.IsInf(x, -1):
			return "-inf"
		}
	}
	return v
}

func (s *Server) entitySchema(r *Request) {
	name := r.Params["name"]
	d := s.db.DAO(name)
	if d == nil {
		r.Exit(404, "No entity named '"+name+"'")
		return
	}
	r.JSON(200, jsonableSchema(d.Schema))
}

func (s *Server) pluginSchema(r *Request) {
	name := r.Params["name"]
	ps := s.db.PluginSchema(name)
	if ps == nil {
		r.Exit(404, "No plugin named '"+name+"'")
		return
	}
	r.JSON(200, jsonableSchema(ps))
}

// validate is Kong's validate_schema: the body (with the query and URL
// captures, as self.params) through process_auto_fields("insert") and
// validate, as a plain schema (no database lookups).
func (s *Server) validate(r *Request, name string) {
	d := s.db.DAO(name)
	if d == nil {
		r.Exit(404, "No entity named '"+name+"'")
		return
	}
	params := copyMap(r.Query)
	for k, v := range r.Body {
		params[k] = copyValue(v)
	}
	// certificates' snis is a field of Kong's schema (transient: the
	// certificates DAO writes snis rows); here an attribute the Admin API
	// keeps, validated as Kong's field is (an array of wildcard hosts)
	var snis map[string]any
	if v, ok := params["snis"]; ok && name == "certificates" && s.certs != nil {
		delete(params, "snis")
		var err error
		if snis, err = s.certs.check.Validate(r.Context(), map[string]any{"snis": v}, false); err != nil {
			r.Error(err)
			return
		}
	}
	ctx := s.runnerContext(r.Context())
	in, shErrs, err := d.Schema.ProcessAutoFields(ctx, params, schema.CtxInsert, nil)
	if err != nil {
		r.Error(err)
		return
	}
	errs := shErrs
	if errs == nil {
		errs, err = d.Schema.Validate(ctx, in, true)
		if err != nil {
			r.Error(err)
			return
		}
	}
	if len(snis) > 0 {
		if errs == nil {
			errs = map[string]any{}
		}
		maps.Copy(errs, snis)
	}
	if errs != nil {
		r.JSON(400, ErrBody(kongdb.Errors{}.SchemaViolation(errs)))
		return
	}
	r.JSON(200, map[string]any{"message": "schema validation successful"})
}

// cacheGet is GET /cache/:key: kong.cache, then kong.core_cache, probed
// (L2); a table value is the body, anything else {"message": value}.
func (s *Server) cacheGet(r *Request) {
	key := r.Params["key"]
	for _, l2 := range []*cache.Cache{s.h.Root.Cache, s.h.Root.CoreCache} {
		if l2 == nil {
			continue
		}
		res, err := l2.Probe(key, nil)
		if err != nil {
			s.logger.Error("cache probe", "key", key, "err", err)
			r.JSON(500, map[string]any{"message": "An unexpected error happened"})
			return
		}
		if !res.Found() {
			continue
		}
		var v any
		if !res.Nil {
			if v, err = cache.Unmarshal(res.Value); err != nil {
				r.JSON(500, map[string]any{"message": "An unexpected error happened"})
				return
			}
		}
		switch x := v.(type) {
		case map[string]any:
			r.JSON(200, x)
		case []any:
			r.JSON(200, x)
		case nil:
			r.JSON(200, map[string]any{})
		default:
			r.JSON(200, map[string]any{"message": x})
		}
		return
	}
	r.Exit(404, nil)
}

// runnerContext gives DB calls made from Go a FuncRunner that borrows a
// worker (Lua validators in plugins' schemas run there), and logs the
// deprecated fields a request gives values for, as Kong's schema does
// through kong.deprecation: a warning "<message> (deprecated after
// <removal_in_version>)".
func (s *Server) runnerContext(ctx context.Context) context.Context {
	ctx = schema.WithDeprecationHandler(ctx, s.logDeprecation)
	return schema.WithFuncRunner(ctx, s.h.FuncRunner())
}

// logDeprecation is Penlight's raise_deprecation text, which Kong's
// kong.deprecation writes at warn level.
func (s *Server) logDeprecation(message, after string) {
	if after != "" {
		message += " (deprecated after " + after + ")"
	}
	s.logger.Warn(message)
}
