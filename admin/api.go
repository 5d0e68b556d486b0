package admin

// Plugins' api.lua, run as Kong runs it: the route table is built in Lua
// (host/lua/kong/api/luahost.lua) in each worker on first use, a request
// on one of its routes borrows a worker, gets self.params / self.args /
// self.req as Kong's lapis app gives them, and answers through
// kong.response.exit, bound here for the Admin API ("admin_api" phase).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
)

// luaAPI serves the routes of plugins' api.lua files in host workers.
type luaAPI struct {
	s       *Server
	plugins []string
	// schemas: route pattern -> the schema its arguments are decoded with
	schemas map[string]*schema.Schema
}

// registryKey holds a worker's *luaWorker in its Lua registry, so the
// state goes with the worker when the pool discards it.
const registryKey = "luahost.admin_api"

// luaWorker is the Admin API's state in one worker.
type luaWorker struct {
	dispatch *lua.LTable // the kong.api.luahost module
	response *lua.LTable // kong.response for the admin phase
	exit     *adminExit  // the current request's answer
}

// adminExit is what kong.response.exit / set_header produced.
type adminExit struct {
	status  int
	body    any
	rawBody string
	hasRaw  bool
	headers [][2]string
	// printed is what the handler wrote with ngx.print and ngx.say: the
	// body when it returns without an exit (no Lapis output added)
	printed    strings.Builder
	hasPrinted bool
}

// printArgs appends ngx.print's arguments to b as ngx_lua writes them:
// strings and numbers, booleans, nil and ngx.null ("null"), and arrays of
// them, flattened.
func printArgs(L *lua.LState, b *strings.Builder, v lua.LValue) {
	switch x := v.(type) {
	case lua.LString:
		b.WriteString(string(x))
	case lua.LNumber:
		b.WriteString(luavm.FormatNumber(float64(x)))
	case lua.LBool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case *lua.LNilType:
		b.WriteString("nil")
	case *lua.LTable:
		for i := 1; i <= x.Len(); i++ {
			printArgs(L, b, x.RawGetInt(i))
		}
	case *lua.LUserData:
		b.WriteString("null")
	default:
		L.RaiseError("bad argument to 'print' (string, number, boolean, nil, ngx.null, or array table expected, got %s)", v.Type().String())
	}
}

// acquireTimeout bounds how long an api.lua request waits for a worker.
const acquireTimeout = 30 * time.Second

func (s *Server) loadLua() error {
	var names []string
	for _, p := range s.h.Plugins {
		if p.HasAPI {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	l := &luaAPI{s: s, plugins: names, schemas: map[string]*schema.Schema{}}
	ctx, cancel := context.WithTimeout(context.Background(), acquireTimeout)
	defer cancel()
	err := s.h.Pool.AcquireFunc(ctx, func(w *host.Worker) error {
		lw, list, err := l.setup(w)
		if err != nil {
			return err
		}
		l.remember(w, lw)
		for _, item := range list {
			rt := s.rt.add(item.pattern)
			rt.lua = true
			rt.methods = map[string]HandlerFunc{}
			for _, m := range item.methods {
				rt.methods[m] = nil // served in Lua; listed for OPTIONS
			}
			if item.schema != "" {
				if d := s.db.DAO(item.schema); d != nil {
					l.schemas[item.pattern] = d.Schema
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading api.lua of %s: %w", strings.Join(names, ", "), err)
	}
	s.lua = l
	return nil
}

type luaRoute struct {
	pattern, schema string
	methods         []string
}

// setup builds the route table in a worker and the admin kong.response.
func (l *luaAPI) setup(w *host.Worker) (*luaWorker, []luaRoute, error) {
	L := w.L
	mod, err := w.Require("kong.api.luahost")
	if err != nil {
		return nil, nil, err
	}
	dispatch, ok := mod.(*lua.LTable)
	if !ok {
		return nil, nil, errors.New("kong.api.luahost is not a table")
	}
	names := L.CreateTable(len(l.plugins), 0)
	for _, n := range l.plugins {
		names.Append(lua.LString(n))
	}
	if err := w.Call(dispatch.RawGetString("build"), 1, names); err != nil {
		return nil, nil, err
	}
	res := L.Get(-1)
	L.Pop(1)
	var list []luaRoute
	if t, ok := res.(*lua.LTable); ok {
		t.ForEach(func(_, v lua.LValue) {
			item, ok := v.(*lua.LTable)
			if !ok {
				return
			}
			r := luaRoute{pattern: lua.LVAsString(item.RawGetString("pattern")), schema: lua.LVAsString(item.RawGetString("schema"))}
			if ms, ok := item.RawGetString("methods").(*lua.LTable); ok {
				ms.ForEach(func(_, m lua.LValue) { r.methods = append(r.methods, lua.LVAsString(m)) })
			}
			list = append(list, r)
		})
	}
	lw := &luaWorker{dispatch: dispatch}
	lw.response = l.responseTable(L, lw)
	return lw, list, nil
}

// responseTable is kong.response as the Admin API phase answers it: exit
// (status, body, headers) ends the call; headers set before are kept.
func (l *luaAPI) responseTable(L *lua.LState, lw *luaWorker) *lua.LTable {
	t := L.NewTable()
	setHeader := func(add bool) lua.LGFunction {
		return func(L *lua.LState) int {
			k := luavm.CheckString(L, 1)
			v := L.Get(2)
			vals := []string{}
			if arr, ok := v.(*lua.LTable); ok {
				arr.ForEach(func(_, e lua.LValue) { vals = append(vals, lua.LVAsString(e)) })
			} else {
				vals = append(vals, lua.LVAsString(v))
			}
			if !add {
				kept := lw.exit.headers[:0]
				for _, h := range lw.exit.headers {
					if !strings.EqualFold(h[0], k) {
						kept = append(kept, h)
					}
				}
				lw.exit.headers = kept
			}
			for _, s := range vals {
				lw.exit.headers = append(lw.exit.headers, [2]string{k, s})
			}
			return 0
		}
	}
	L.SetFuncs(t, map[string]lua.LGFunction{
		"exit": func(L *lua.LState) int {
			status := L.CheckInt(1)
			if status < 100 || status > 599 {
				L.ArgError(1, "code must be a number between 100 and 599")
			}
			e := lw.exit
			e.status = status
			switch b := L.Get(2).(type) {
			case *lua.LTable:
				v, err := pdk.ToValue(L, b, nil)
				if err != nil {
					L.RaiseError("%s", err.Error())
				}
				e.body = v
			case lua.LString:
				e.rawBody, e.hasRaw = string(b), true
			case *lua.LNilType:
			default:
				L.ArgError(2, "body must be a nil, string or table")
			}
			if hs, ok := L.Get(3).(*lua.LTable); ok {
				hs.ForEach(func(k, v lua.LValue) {
					e.headers = append(e.headers, [2]string{lua.LVAsString(k), lua.LVAsString(v)})
				})
			}
			luavm.Unwind(L, e)
			return 0
		},
		"error": func(L *lua.LState) int {
			status := L.CheckInt(1)
			e := lw.exit
			e.status = status
			if msg, ok := L.Get(2).(lua.LString); ok {
				e.body = map[string]any{"message": string(msg)}
			} else if tb, ok := L.Get(2).(*lua.LTable); ok {
				e.body, _ = pdk.ToValue(L, tb, nil)
			}
			luavm.Unwind(L, e)
			return 0
		},
		"set_header": setHeader(false),
		"add_header": setHeader(true),
		"get_status": func(L *lua.LState) int {
			st := lw.exit.status
			if st == 0 {
				st = 200
			}
			L.Push(lua.LNumber(st))
			return 1
		},
		"set_status": func(L *lua.LState) int {
			lw.exit.status = L.CheckInt(1)
			return 0
		},
	})
	return t
}

// worker returns the Admin API's state in w, setting it up on first use.
func (l *luaAPI) worker(w *host.Worker) (*luaWorker, error) {
	if ud, ok := w.L.G.Registry.RawGetString(registryKey).(*lua.LUserData); ok {
		if lw, ok := ud.Value.(*luaWorker); ok {
			return lw, nil
		}
	}
	lw, _, err := l.setup(w)
	if err != nil {
		return nil, err
	}
	l.remember(w, lw)
	return lw, nil
}

func (l *luaAPI) remember(w *host.Worker, lw *luaWorker) {
	ud := w.L.NewUserData()
	ud.Value = lw
	w.L.G.Registry.RawSetString(registryKey, ud)
}

// serve runs the api.lua route of r in a borrowed worker.
func (l *luaAPI) serve(r *Request) {
	ctx, cancel := context.WithTimeout(context.Background(), acquireTimeout)
	defer cancel()
	w, err := l.s.h.Pool.Acquire(ctx)
	if err != nil {
		l.s.logger.Error("admin API: no worker for api.lua", "path", r.Path, "err", err)
		r.Exit(500, nil)
		return
	}
	defer l.s.h.Pool.Release(w)
	lw, err := l.worker(w)
	if err != nil {
		l.s.logger.Error("admin API: api.lua", "err", err)
		r.Exit(500, nil)
		return
	}
	L := w.L
	kong, _ := L.GetGlobal("kong").(*lua.LTable)
	if kong == nil {
		r.Exit(500, nil)
		return
	}
	saved := kong.RawGetString("response")
	kong.RawSetString("response", lw.response)
	prevPhase := w.In.Phase
	w.In.Phase = "content" // ngx.get_phase() in Kong's Admin API
	lw.exit = &adminExit{}
	// ngx.print and ngx.say write the response body, as in a content
	// handler
	ngxT, _ := L.GetGlobal("ngx").(*lua.LTable)
	var savedPrint, savedSay lua.LValue
	if ngxT != nil {
		savedPrint, savedSay = ngxT.RawGetString("print"), ngxT.RawGetString("say")
		e := lw.exit
		printer := func(nl bool) *lua.LFunction {
			return L.NewFunction(func(L *lua.LState) int {
				for i := 1; i <= L.GetTop(); i++ {
					printArgs(L, &e.printed, L.Get(i))
				}
				if nl {
					e.printed.WriteByte('\n')
				}
				e.hasPrinted = true
				L.Push(lua.LNumber(1))
				return 1
			})
		}
		ngxT.RawSetString("print", printer(false))
		ngxT.RawSetString("say", printer(true))
	}
	defer func() {
		kong.RawSetString("response", saved)
		w.In.Phase = prevPhase
		if ngxT != nil {
			ngxT.RawSetString("print", savedPrint)
			ngxT.RawSetString("say", savedSay)
		}
	}()

	self := l.selfTable(L, r)
	err = w.Call(lw.dispatch.RawGetString("serve"), 0, lua.LString(r.route.pattern), lua.LString(r.Method), self)
	e := lw.exit
	if err != nil {
		if v, ok := luavm.UnwoundWith(err); ok {
			e, _ = v.(*adminExit)
		} else {
			l.s.logger.Error("admin API: api.lua failed", "path", r.Path, "err", err)
			r.Exit(500, nil)
			return
		}
	}
	for _, h := range e.headers {
		r.Ctx.Response.Header.Add(h[0], h[1])
	}
	status := e.status
	if status == 0 {
		status = 200
	}
	if err == nil && e.hasPrinted {
		// returned without an exit after writing the body itself
		r.Ctx.SetStatusCode(status)
		r.Ctx.SetBodyString(e.printed.String())
		return
	}
	if e.hasRaw {
		r.Ctx.SetStatusCode(status)
		r.Ctx.SetBodyString(e.rawBody)
		return
	}
	r.Exit(status, e.body)
}

// selfTable is lapis' self for the handler: params (URL captures, query
// and body merged), args (uri and post decoded with the route's schema,
// json, body), req (method, headers, parsed_url), route_name.
func (l *luaAPI) selfTable(L *lua.LState, r *Request) *lua.LTable {
	sc := l.schemas[r.route.pattern]
	params := copyMap(r.Query)
	for k, v := range r.Body {
		params[k] = copyValue(v)
	}
	for k, v := range r.Params {
		params[k] = v
	}
	args := map[string]any{"uri": r.uriArgs(sc), "post": r.postArgs(sc)}
	if r.IsJSON {
		args["json"] = copyMap(r.Body)
	} else if r.Body == nil && len(r.RawBody()) > 0 {
		args["body"] = string(r.RawBody())
	}
	headers := map[string]any{}
	r.Ctx.Request.Header.VisitAll(func(k, v []byte) {
		key := strings.ToLower(string(k))
		if old, ok := headers[key]; ok {
			if arr, ok := old.([]any); ok {
				headers[key] = append(arr, string(v))
			} else {
				headers[key] = []any{old, string(v)}
			}
			return
		}
		headers[key] = string(v)
	})
	self := L.NewTable()
	self.RawSetString("params", pdk.FromValue(L, params, nil))
	self.RawSetString("args", pdk.FromValue(L, args, nil))
	self.RawSetString("route_name", lua.LString(r.route.pattern))
	self.RawSetString("req", pdk.FromValue(L, map[string]any{
		"method":  r.Method,
		"headers": headers,
		"parsed_url": map[string]any{
			"path":  r.Path,
			"query": string(r.Ctx.URI().QueryString()),
		},
	}, nil))
	return self
}
