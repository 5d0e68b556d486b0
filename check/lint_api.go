package check

import (
	"fmt"
	"strings"

	"github.com/yuin/gopher-lua/ast"
)

var httpMethods = set("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

// lintAPI checks api.lua's routes. Kong builds them two ways: when the
// route table pairs() happens to return first has a `schema`, every route
// is a "new DB" route and handlers get (self, db, helpers) with self.args
// set; otherwise every handler gets (self, {}, helpers) and self.args is
// nil (kong/api/init.lua, api_helpers.attach_routes). A handler reading
// self.args or db.<dao> without a schema on its route crashes with
// "attempt to index field 'args' (a nil value)" (Kong/kong#9493, #6304).
func (p *plugin) lintAPI() {
	if !p.desc.HasAPI {
		return
	}
	f := p.file("api.lua")
	if f == nil {
		return
	}
	ret := returnedTable(f)
	if ret == nil {
		return
	}
	type route struct {
		path      string
		line      int
		hasSchema bool
		handlers  []*ast.FunctionExpr
	}
	var routes []route
	for _, fl := range ret.Fields {
		ks, ok := fl.Key.(*ast.StringExpr)
		if !ok {
			continue
		}
		rt, ok := fl.Value.(*ast.TableExpr)
		if !ok {
			continue
		}
		r := route{path: ks.Value, line: ks.Line()}
		methods := rt
		for _, rf := range rt.Fields {
			k, ok := rf.Key.(*ast.StringExpr)
			if !ok {
				continue
			}
			switch {
			case k.Value == "schema":
				r.hasSchema = true
			case k.Value == "methods":
				if mt, ok := rf.Value.(*ast.TableExpr); ok {
					methods = mt
				}
			}
		}
		for _, mf := range methods.Fields {
			k, ok := mf.Key.(*ast.StringExpr)
			if !ok || !httpMethods[k.Value] {
				continue
			}
			if fn, ok := mf.Value.(*ast.FunctionExpr); ok {
				r.handlers = append(r.handlers, fn)
			}
		}
		routes = append(routes, r)
	}
	withSchema := 0
	for _, r := range routes {
		if r.hasSchema {
			withSchema++
		}
	}
	for _, r := range routes {
		if r.hasSchema {
			continue
		}
		mixed := ""
		if withSchema > 0 {
			mixed = "; other routes have one, so Kong picks the mode from whichever route pairs() returns first, differently from start to start"
		}
		for _, fn := range r.handlers {
			if line, what := readsArgsOrDB(fn); line > 0 {
				p.add(Finding{File: "api.lua", Line: line, Severity: Error, Code: "api-nil-args",
					Message: fmt.Sprintf("handler of '%s' reads %s, but the route has no schema: Kong then calls it with self.args = nil and db = {}%s", r.path, what, mixed),
					Kong:    "Kong/kong#9493",
					Fix:     fmt.Sprintf("add schema = kong.db.<entity>.schema to the '%s' route table (and to every route of api.lua)", r.path)})
			}
		}
	}
}

// returnedTable finds the table api.lua returns (directly, or through a
// local it returns).
func returnedTable(f *luaFile) *ast.TableExpr {
	locals := map[string]*ast.TableExpr{}
	for _, s := range f.Stmts {
		switch s := s.(type) {
		case *ast.LocalAssignStmt:
			for i, n := range s.Names {
				if i < len(s.Exprs) {
					if t, ok := s.Exprs[i].(*ast.TableExpr); ok {
						locals[n] = t
					}
				}
			}
		case *ast.ReturnStmt:
			if len(s.Exprs) == 0 {
				return nil
			}
			switch e := s.Exprs[0].(type) {
			case *ast.TableExpr:
				return e
			case *ast.IdentExpr:
				return locals[e.Value]
			}
		}
	}
	return nil
}

// readsArgsOrDB reports the first place a handler reads self.args, uses
// its second parameter (db) as a table of DAOs, or calls kong.api.endpoints
// helpers through it.
func readsArgsOrDB(fn *ast.FunctionExpr) (int, string) {
	params := fn.ParList.Names
	self, db := "", ""
	if len(params) > 0 {
		self = params[0]
	}
	if len(params) > 1 {
		db = params[1]
	}
	line, what := 0, ""
	w := &walker{onExpr: func(e ast.Expr, _ *luaTable, _ string) *luaTable {
		if line > 0 {
			return nil
		}
		ag, ok := e.(*ast.AttrGetExpr)
		if !ok {
			return nil
		}
		obj, ok := ag.Object.(*ast.IdentExpr)
		if !ok {
			return nil
		}
		key, _ := ag.Key.(*ast.StringExpr)
		switch {
		case self != "" && obj.Value == self && key != nil && key.Value == "args":
			line, what = ag.Line(), self+".args"
		case db != "" && obj.Value == db && key != nil:
			line, what = ag.Line(), db+"."+key.Value
		}
		return nil
	}}
	w.stmts(fn.Stmts, nil)
	if line == 0 {
		return 0, ""
	}
	return line, strings.TrimSpace(what)
}
