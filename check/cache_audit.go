package check

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/yuin/gopher-lua/ast"
)

// auditCache looks at every kong.cache:get / get_bulk of the plugin. Kong
// evicts a cached entity on CRUD events by the key dao:cache_key(entity)
// computes (`<entity>:<v1>:…:<v5>:<ws_id>`); a key built by hand, or one
// that leaves out fields of a composite cache_key or the workspace
// segment (Kong/kong#8965), is never matched, and the plugin serves stale
// data until the entry expires (db_cache_ttl is 0, never, by default).
func (p *plugin) auditCache() {
	files := p.luaSources()
	// A plugin that subscribes to crud events and invalidates keys itself
	// manages its own keys.
	selfManaged := map[string]bool{} // entity -> has a crud handler ("*" = any)
	invalidates := false
	for _, rel := range files {
		f := p.file(rel)
		if f == nil {
			continue
		}
		w := &walker{onCall: func(c *ast.FuncCallExpr, _ *ast.FunctionExpr) {
			switch c.Method {
			case "invalidate", "invalidate_local", "delete":
				invalidates = true
			}
			if name := callName(c); strings.HasSuffix(name, "worker_events.register") {
				crud := false
				entity := "*"
				for _, a := range c.Args[1:] {
					if s, ok := a.(*ast.StringExpr); ok {
						if s.Value == "crud" {
							crud = true
						} else if crud {
							entity, _, _ = strings.Cut(s.Value, ":")
						}
					}
				}
				if crud {
					selfManaged[entity] = true
				}
			}
		}}
		w.stmts(f.Stmts, nil)
	}
	// A custom DAO (schema dao = "kong.plugins.<name>.<module>") that
	// overrides post_crud_event invalidates its own keys (Kong's acl).
	for _, s := range p.schemas {
		if rest, ok := strings.CutPrefix(s.DAO, "kong.plugins."+p.name+"."); ok {
			b, err := os.ReadFile(filepath.Join(p.dir, strings.ReplaceAll(rest, ".", "/")+".lua"))
			if err == nil && strings.Contains(string(b), "post_crud_event") && strings.Contains(string(b), "invalidate") {
				selfManaged[s.Name] = true
				invalidates = true
			}
		}
	}
	managed := func(entity string) bool {
		return invalidates && (selfManaged["*"] || selfManaged[entity])
	}
	entities := map[string]int{} // own entity -> cache_key length
	for _, s := range p.schemas {
		entities[s.Name] = len(s.CacheKey)
	}
	for _, rel := range files {
		f := p.file(rel)
		if f == nil {
			continue
		}
		a := &keyAudit{f: f, assigns: assignments(f), funcs: functions(f)}
		w := &walker{onCall: func(c *ast.FuncCallExpr, _ *ast.FunctionExpr) {
			if c.Method == "cache_key" {
				ent := daoEntity(c.Receiver)
				if n, ok := entities[ent]; ok && n > 1 && len(c.Args) > 0 && len(c.Args) < n && !managed(ent) {
					if scalarArg(c.Args[0]) {
						p.add(Finding{File: rel, Line: c.Line(), Severity: Warning, Code: "cache-key-never-invalidated",
							Message: fmt.Sprintf("%s:cache_key(...) with %d of the %d cache_key fields of '%s': the key differs from the one CRUD events evict, so the entry is never invalidated by CRUD events", ent, len(c.Args), n, ent),
							Fix:     fmt.Sprintf("pass every cache_key field of '%s', or register a crud handler (kong.worker_events.register(fn, \"crud\", \"%s\")) that invalidates this key", ent, ent)})
					}
				}
				return
			}
			if c.Method != "get" && c.Method != "get_bulk" {
				return
			}
			if !isCache(c.Receiver, a.assigns) || len(c.Args) == 0 {
				return
			}
			var keys []ast.Expr
			if c.Method == "get" {
				keys = []ast.Expr{c.Args[0]}
			} else if t, ok := c.Args[0].(*ast.TableExpr); ok {
				n := 0
				for _, fl := range t.Fields {
					if fl.Key == nil {
						if n%4 == 0 {
							keys = append(keys, fl.Value)
						}
						n++
					}
				}
			}
			for _, k := range keys {
				kind, prefix := a.classify(k, 0)
				if kind != keyHandBuilt {
					continue
				}
				entity := strings.TrimSuffix(prefix, ":")
				_, own := entities[entity]
				known := own || coreEntities[entity] || bundledEntities[entity] != ""
				usesDB := c.Method == "get" && len(c.Args) >= 3 && a.callbackUsesDB(c.Args[2])
				if !known && !usesDB {
					continue // a value of its own (a remote call's result), not an entity
				}
				if managed(entity) || (!known && managed("*")) {
					continue
				}
				msg := fmt.Sprintf("kong.cache:%s key is built by hand rather than by dao:cache_key(...): it is never invalidated by CRUD events", c.Method)
				kong := ""
				if known {
					msg = fmt.Sprintf("kong.cache:%s key '%s…' is built by hand: Kong evicts '%s:<v1>:<v2>:<v3>:<v4>:<v5>:<ws_id>' on CRUD events, and this key, without the workspace segment, is never invalidated", c.Method, prefix, entity)
					kong = "Kong/kong#8965"
				}
				p.add(Finding{File: rel, Line: k.Line(), Severity: Warning, Code: "cache-key-never-invalidated",
					Message: msg, Kong: kong,
					Fix: "build the key with kong.db.<entity>:cache_key(...) so that CRUD events evict it"})
			}
		}}
		w.stmts(f.Stmts, nil)
	}
}

// luaSources lists the plugin's Lua files other than its schemas,
// migrations and specs, relative to the plugin dir.
func (p *plugin) luaSources() []string {
	var out []string
	_ = filepath.WalkDir(p.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(p.dir, path)
		if d.IsDir() {
			if rel == "spec" || rel == "migrations" || strings.HasPrefix(d.Name(), ".") || rel == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(rel, ".lua") && rel != "daos.lua" && rel != "schema.lua" && !strings.HasSuffix(rel, "_spec.lua") {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// scalarArg tells an argument that is surely not an entity table (a
// field, a literal, a concatenation): dao:cache_key(entity) takes the
// cache_key fields from a table, so only scalars can leave some out.
func scalarArg(e ast.Expr) bool {
	switch e.(type) {
	case *ast.AttrGetExpr, *ast.StringExpr, *ast.NumberExpr, *ast.StringConcatOpExpr:
		return true
	}
	return false
}

type keyKind int

const (
	keyUnknown keyKind = iota
	keyFromDAO
	keyHandBuilt
)

type keyAudit struct {
	f       *luaFile
	assigns map[string][]ast.Expr
	funcs   map[string]*ast.FunctionExpr
}

var keyPrefix = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*:)`)

// classify tells a key built by dao:cache_key from one built by hand (a
// literal, a concatenation, string.format), following locals.
func (a *keyAudit) classify(e ast.Expr, depth int) (keyKind, string) {
	if depth > 4 {
		return keyUnknown, ""
	}
	switch e := e.(type) {
	case *ast.FuncCallExpr:
		if e.Method == "cache_key" {
			return keyFromDAO, ""
		}
		if e.Method == "format" {
			if s, ok := e.Receiver.(*ast.StringExpr); ok {
				return keyHandBuilt, keyPrefix.FindString(s.Value)
			}
			return keyHandBuilt, ""
		}
		if n := callName(e); n == "string.format" || n == "fmt" || n == "format" {
			if len(e.Args) > 0 {
				if s, ok := e.Args[0].(*ast.StringExpr); ok {
					return keyHandBuilt, keyPrefix.FindString(s.Value)
				}
			}
			return keyHandBuilt, ""
		}
	case *ast.StringExpr:
		return keyHandBuilt, keyPrefix.FindString(e.Value)
	case *ast.StringConcatOpExpr:
		l := e.Lhs
		for {
			c, ok := l.(*ast.StringConcatOpExpr)
			if !ok {
				break
			}
			l = c.Lhs
		}
		if k, _ := a.classify(l, depth+1); k == keyFromDAO {
			return keyUnknown, "" // a DAO key with a suffix of the plugin's
		}
		if s, ok := l.(*ast.StringExpr); ok {
			return keyHandBuilt, keyPrefix.FindString(s.Value)
		}
		return keyHandBuilt, ""
	case *ast.IdentExpr:
		vals := a.assigns[e.Value]
		if len(vals) == 0 {
			return keyUnknown, ""
		}
		kind, prefix := keyHandBuilt, ""
		for _, v := range vals {
			k, p := a.classify(v, depth+1)
			switch k {
			case keyFromDAO:
				return keyFromDAO, ""
			case keyUnknown:
				kind = keyUnknown
			}
			if p != "" {
				prefix = p
			}
		}
		return kind, prefix
	}
	return keyUnknown, ""
}

// callbackUsesDB reports whether a kong.cache:get callback reads kong.db.
func (a *keyAudit) callbackUsesDB(e ast.Expr) bool {
	var fn *ast.FunctionExpr
	switch e := e.(type) {
	case *ast.FunctionExpr:
		fn = e
	case *ast.IdentExpr:
		fn = a.funcs[e.Value]
	case *ast.AttrGetExpr:
		if k, ok := e.Key.(*ast.StringExpr); ok {
			fn = a.funcs[k.Value]
		}
	}
	if fn == nil {
		return false
	}
	uses := false
	w := &walker{onExpr: func(e ast.Expr, _ *luaTable, _ string) *luaTable {
		if ag, ok := e.(*ast.AttrGetExpr); ok {
			if k, ok := ag.Key.(*ast.StringExpr); ok && (k.Value == "db" || k.Value == "dao") {
				uses = true
			}
		}
		return nil
	}}
	w.stmts(fn.Stmts, nil)
	return uses
}

// assignments maps each variable name to every expression assigned to it
// anywhere in the file, function bodies included (scopes are not told
// apart: a coarse but safe reading).
func assignments(f *luaFile) map[string][]ast.Expr {
	out := map[string][]ast.Expr{}
	w := &walker{onStmt: func(s ast.Stmt) {
		switch s := s.(type) {
		case *ast.LocalAssignStmt:
			for i, n := range s.Names {
				if i < len(s.Exprs) {
					out[n] = append(out[n], s.Exprs[i])
				}
			}
		case *ast.AssignStmt:
			for i, l := range s.Lhs {
				if id, ok := l.(*ast.IdentExpr); ok && i < len(s.Rhs) {
					out[id.Value] = append(out[id.Value], s.Rhs[i])
				}
			}
		}
	}}
	w.stmts(f.Stmts, nil)
	return out
}

// functions maps function names (local function f, local f = function,
// function M.f, M:f, and table fields f = function) to their bodies.
func functions(f *luaFile) map[string]*ast.FunctionExpr {
	out := map[string]*ast.FunctionExpr{}
	w := &walker{onStmt: func(s ast.Stmt) {
		switch s := s.(type) {
		case *ast.LocalAssignStmt:
			for i, n := range s.Names {
				if i < len(s.Exprs) {
					if fe, ok := s.Exprs[i].(*ast.FunctionExpr); ok {
						out[n] = fe
					}
				}
			}
		case *ast.AssignStmt:
			for i, l := range s.Lhs {
				if i >= len(s.Rhs) {
					break
				}
				if fe, ok := s.Rhs[i].(*ast.FunctionExpr); ok {
					if n := exprName(l); n != "" {
						out[n[strings.LastIndex(n, ".")+1:]] = fe
					}
				}
			}
		case *ast.FuncDefStmt:
			switch n := s.Name.Func.(type) {
			case *ast.IdentExpr:
				out[n.Value] = s.Func
			case *ast.AttrGetExpr:
				if k, ok := n.Key.(*ast.StringExpr); ok {
					out[k.Value] = s.Func
				}
			}
			if s.Name.Method != "" {
				out[s.Name.Method] = s.Func
			}
		}
	}}
	w.stmts(f.Stmts, nil)
	return out
}

// isCache tells whether e is kong.cache / kong.core_cache /
// singletons.cache, or a local holding one.
func isCache(e ast.Expr, assigns map[string][]ast.Expr) bool {
	switch n := exprName(e); {
	case n == "kong.cache" || n == "kong.core_cache" || n == "singletons.cache" || n == "singletons.core_cache":
		return true
	case n != "" && !strings.Contains(n, "."):
		for _, v := range assigns[n] {
			if vn := exprName(v); vn == "kong.cache" || vn == "kong.core_cache" || vn == "singletons.cache" {
				return true
			}
		}
	}
	return false
}

// daoEntity returns <entity> of kong.db.<entity> (or singletons.db, db.<entity>).
func daoEntity(e ast.Expr) string {
	n := exprName(e)
	for _, pre := range []string{"kong.db.", "singletons.db.", "db.", "kong.dao.", "dao."} {
		if rest, ok := strings.CutPrefix(n, pre); ok && !strings.Contains(rest, ".") {
			return rest
		}
	}
	return ""
}

// exprName renders a.b.c chains ("" for anything else).
func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.IdentExpr:
		return e.Value
	case *ast.AttrGetExpr:
		k, ok := e.Key.(*ast.StringExpr)
		if !ok {
			return ""
		}
		o := exprName(e.Object)
		if o == "" {
			return ""
		}
		return o + "." + k.Value
	}
	return ""
}

func callName(c *ast.FuncCallExpr) string {
	if c.Method != "" {
		return exprName(c.Receiver) + "." + c.Method
	}
	return exprName(c.Func)
}
