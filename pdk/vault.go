package pdk

// kong.vault (Kong's kong/pdk/vault.lua) with the one vault Kong bundles,
// env (kong/vaults/env): references "{vault://env/NAME}" and
// "{vault://env/NAME/key}" resolved from the process environment, cached
// node-wide as Kong caches them in its kong_secrets dict (failures for
// Kong's 120 s, so a second get of a missing secret answers nil without an
// error, as Kong's does). Vault entities (prefixes of configured aws, gcp,
// hcv, azure ... vaults) are not stored, so every other name is Kong's
// "could not find vault (name)". Not provided: rotation (try, the
// rotation timer), warmup; flush empties the cache.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk/bind"
	"github.com/luahost/luahost/pdk/ngx"
)

// vaultNegTTL is how long Kong keeps a failed lookup (SECRETS_CACHE_MIN_TTL,
// twice the 60 s rotation interval).
const vaultNegTTL = 120 * time.Second

// vaultRef is parse_reference's result.
type vaultRef struct {
	name, resource, key string
	hasKey              bool
	query               string // "" = no config
	version             int
	hasVersion          bool
}

// vaultSecret is one cached lookup: a value, or a failure until exp.
type vaultSecret struct {
	value string
	neg   bool
	exp   time.Time
}

// vaultCache is the node's secrets (Kong's kong_secrets dict and each
// worker's LRU in one), keyed by the vault's config and the reference.
type vaultCache struct {
	mu sync.Mutex
	m  map[string]vaultSecret
}

// parseVaultReference is Kong's parse_reference, with LuaSocket's url.parse
// and url.parse_path as Kong uses them; msg is Kong's error.
func parseVaultReference(ref string) (r vaultRef, msg string) {
	if !schema.IsReference(ref) {
		return r, "not a reference [" + ref + "]"
	}
	u := ref[1 : len(ref)-1]
	// url.parse: scheme, //authority, #fragment, ?query, ;params, path
	if i := strings.IndexByte(u, ':'); i > 0 && isSchemeStart(u[0]) && isScheme(u[:i]) {
		u = u[i+1:]
	}
	var authority string
	hasAuthority := false
	if strings.HasPrefix(u, "//") {
		hasAuthority = true
		rest := u[2:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			j = len(rest)
		}
		authority, u = rest[:j], rest[j:]
	}
	fragment, hasFragment := "", false
	if i := strings.IndexByte(u, '#'); i >= 0 {
		fragment, hasFragment, u = u[i+1:], true, u[:i]
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		r.query, u = u[i+1:], u[:i]
	}
	if i := strings.IndexByte(u, ';'); i >= 0 {
		u = u[:i]
	}
	path, hasPath := u, u != ""
	host := ""
	if hasAuthority {
		if i := strings.IndexByte(authority, '@'); i >= 0 {
			authority = authority[i+1:]
		}
		if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.ContainsRune(authority[i+1:], ']') {
			authority = authority[:i]
		}
		host = authority
		if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
			host = host[1 : len(host)-1]
		}
	}
	if host == "" {
		return r, "reference url is missing host [" + ref + "]"
	}
	r.name = host
	if !hasPath {
		return r, "reference url is missing path [" + ref + "]"
	}
	resource := path[1:]
	if resource == "" {
		return r, "reference url has empty path [" + ref + "]"
	}
	if hasFragment {
		v, ok := luaToInt10(fragment)
		if !ok {
			return r, "reference url has invalid version [" + ref + "]"
		}
		r.version, r.hasVersion = v, true
	}
	var parts []string
	for _, p := range strings.Split(resource, "/") {
		if p != "" {
			parts = append(parts, socketUnescape(p))
		}
	}
	switch n := len(parts); {
	case n == 0:
		return r, "reference url has invalid path [" + ref + "]"
	case n == 1:
		r.resource = ngx.UnescapeURI(parts[0])
	case strings.HasSuffix(resource, "/"):
		r.resource = ngx.UnescapeURI(strings.Join(parts, "/"))
	default:
		r.resource = ngx.UnescapeURI(strings.Join(parts[:n-1], "/"))
		r.key, r.hasKey = ngx.UnescapeURI(parts[n-1]), true
	}
	return r, ""
}

func isSchemeStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isSchemeStart(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// socketUnescape is LuaSocket's url.unescape: "%XX" only.
func socketUnescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// luaToInt10 is LuaJIT's tonumber(s, 10): an integer in base 10, spaces
// around it allowed.
func luaToInt10(s string) (int, bool) {
	s = strings.Trim(s, " \t\n\r\v\f")
	neg := strings.HasPrefix(s, "-")
	d := strings.TrimPrefix(s, "-")
	if d == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
		n = n*10 + int(d[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// vaultNames are kong.conf's loaded_vaults: "bundled" (the default) is
// env, "off" none.
func (r *Root) vaultLoaded(name string) bool {
	list := []string{"bundled"}
	if r.Conf != nil && r.Conf.Has("vaults") {
		list = r.Conf.List("vaults")
	}
	if len(list) == 0 || strings.TrimSpace(list[0]) == "off" {
		return false
	}
	for _, v := range list {
		v = strings.TrimSpace(v)
		if v == name || v == "bundled" && name == "env" {
			return true
		}
	}
	return false
}

// envPrefixOK is the env vault's prefix field: match ^[%a_-][%a%d_-]*$.
func envPrefixOK(p string) bool {
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// envConfig is get_vault_config_and_hash for env: the reference's
// ?prefix= over kong.conf's vault_env_prefix, kept when valid.
func (r *Root) envConfig(query string) (prefix string, ok bool) {
	if query != "" {
		var vals []string
		for _, part := range strings.Split(query, "&") {
			k, v, eq := strings.Cut(part, "=")
			if ngx.UnescapeURI(k) == "prefix" {
				if !eq {
					vals = append(vals, "\x00") // true: not a string
				} else {
					vals = append(vals, ngx.UnescapeURI(v))
				}
			}
		}
		if len(vals) > 0 {
			// one string value is the override; several (a table) or a
			// bare key (true) fail the string field and count as none
			if len(vals) == 1 && envPrefixOK(vals[0]) {
				return vals[0], true
			}
			if len(vals) == 1 && vals[0] != "\x00" || len(vals) > 1 {
				return "", false
			}
		}
	}
	if r.Conf != nil {
		if p := r.Conf.Get("vault_env_prefix"); envPrefixOK(p) {
			return p, true
		}
	}
	return "", false
}

// envVaultGet is kong/vaults/env's get: prefix .. resource, upper-cased,
// dashes to underscores, "_PREVIOUS" for version 2.
func envVaultGet(prefix string, havePrefix bool, resource string, version int) (string, bool) {
	if havePrefix {
		resource = prefix + resource
	}
	name := []byte(resource)
	for i, c := range name {
		switch {
		case c == '-':
			name[i] = '_'
		case c >= 'a' && c <= 'z':
			name[i] = c - 'a' + 'A'
		}
	}
	if version == 2 {
		name = append(name, "_PREVIOUS"...)
	}
	return os.LookupEnv(string(name))
}

// jsonField is extract_key_from_json_string's decoding: the string at key
// of the JSON object doc, or Kong's message.
type jsonField func(doc, key string) (string, string)

// goJSONField is jsonField without a Lua state (kong.db's reads): the
// decoder's own words where cjson's are not at hand.
func goJSONField(doc, key string) (string, string) {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return "", "unable to json decode value (nil): " + err.Error()
	}
	m, ok := v.(map[string]any)
	if !ok {
		s, _ := json.Marshal(v)
		return "", "unable to json decode value (" + string(s) + "): nil"
	}
	return subfield(m[key], key)
}

// subfield is the last step of extract_key_from_json_string.
func subfield(v any, key string) (string, string) {
	switch x := v.(type) {
	case nil:
		return "", "subfield " + key + " not found in JSON secret"
	case string:
		return x, ""
	case bool:
		return "", "unexpected boolean value in JSON secret for subfield " + key
	case float64, json.Number:
		return "", "unexpected number value in JSON secret for subfield " + key
	case schema.NullType:
		return "", "unexpected userdata value in JSON secret for subfield " + key
	}
	return "", "unexpected table value in JSON secret for subfield " + key
}

// How vaultGet uses the cache.
type vaultMode int

const (
	vaultCached    vaultMode = iota // get(reference): the cache, else the vault
	vaultCacheOnly                  // get(reference, true): the cache alone
	vaultRefresh                    // rotate_reference: the vault, then the cache
)

// vaultGet is vault.lua's get(reference, cache_only) and, with
// vaultRefresh, its rotate_reference: the value, or ok false with Kong's
// message ("" when a failure is cached: Kong's nil without an error).
func (r *Root) vaultGet(ref string, mode vaultMode, field jsonField) (value string, ok bool, msg string) {
	pr, msg := parseVaultReference(ref)
	if msg != "" {
		return "", false, msg
	}
	if pr.name != "env" || !r.vaultLoaded("env") {
		// not a loaded vault's name: Kong looks for a vault entity with
		// that prefix, and luahost stores none
		return "", false, "could not find vault (" + pr.name + ")"
	}
	prefix, havePrefix := r.envConfig(pr.query)
	key := "env;"
	if havePrefix {
		key += "prefix=" + prefix + ";"
	}
	key += "." + ref
	now := r.now()
	c := &r.secrets
	c.mu.Lock()
	s, hit := c.m[key]
	if hit && (s.neg && !now.Before(s.exp) || mode == vaultRefresh) {
		hit = false
	}
	c.mu.Unlock()
	if hit {
		if s.neg {
			return "", false, ""
		}
		return s.value, true, ""
	}
	if mode == vaultCacheOnly {
		return "", false, "could not find cached value"
	}
	version := 0
	if pr.hasVersion {
		version = pr.version
	}
	v, found := envVaultGet(prefix, havePrefix, pr.resource, version)
	fail := ""
	if !found {
		fail = "no value found"
	} else if pr.hasKey {
		var m string
		if v, m = field(v, pr.key); m != "" {
			fail = "could not get subfield value: " + m
		}
	}
	s = vaultSecret{value: v}
	if fail != "" {
		s = vaultSecret{neg: true, exp: now.Add(vaultNegTTL)}
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]vaultSecret{}
	}
	c.m[key] = s
	c.mu.Unlock()
	if fail != "" {
		return "", false, "could not get value from external vault (" + fail + ")"
	}
	return v, true, ""
}

// ResolveReference is kong.vault.get for Kong's schema on select (the
// host hands it to kong.db: plugin configurations and other referenceable
// fields read with their secrets).
func (r *Root) ResolveReference(_ context.Context, ref string) (string, error) {
	v, ok, msg := r.vaultGet(ref, vaultCached, goJSONField)
	if !ok {
		if msg == "" {
			msg = "no value found"
		}
		return "", errors.New(msg)
	}
	return v, nil
}

// InstallVault makes kong.db resolve vault references on select, as
// Kong's schema does with kong.vault (the Admin API reads with nulls and
// sees references).
func (r *Root) InstallVault() {
	if r.DB != nil {
		r.DB.SetReferenceResolver(r.ResolveReference, r.Logger)
	}
}

// newKongVault is kong.vault.
func (in *Instance) newKongVault() *lua.LTable {
	L := in.L
	v := L.CreateTable(0, 6)
	L.SetFuncs(v, map[string]lua.LGFunction{
		"is_reference": func(L *lua.LState) int {
			L.Push(lua.LBool(schema.IsReference(luaString(L.Get(1)))))
			return 1
		},
		"parse_reference": in.vaultParseReference,
		"get":             in.vaultGetLua,
		"update":          in.vaultUpdate,
		"try":             in.vaultTry,
		"flush": func(L *lua.LState) int {
			c := &in.Root.secrets
			c.mu.Lock()
			c.m = nil
			c.mu.Unlock()
			return 0
		},
	})
	return v
}

// luaString is v when it is a Lua string ("" otherwise: never a reference).
func luaString(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	return ""
}

func (in *Instance) vaultParseReference(L *lua.LState) int {
	ref := L.Get(1)
	s, isStr := ref.(lua.LString)
	if !isStr || !schema.IsReference(string(s)) {
		return bind.Fail(L, "not a reference ["+L.ToStringMeta(ref).String()+"]")
	}
	pr, msg := parseVaultReference(string(s))
	if msg != "" {
		return bind.Fail(L, msg)
	}
	t := L.CreateTable(0, 5)
	t.RawSetString("name", lua.LString(pr.name))
	t.RawSetString("resource", lua.LString(pr.resource))
	if pr.hasKey {
		t.RawSetString("key", lua.LString(pr.key))
	}
	if pr.hasVersion {
		t.RawSetString("version", lua.LNumber(pr.version))
	}
	if pr.query != "" {
		// ngx.decode_args of the query, as Kong's
		L.Push(L.GetField(in.ngx, "decode_args"))
		L.Push(lua.LString(pr.query))
		L.Call(1, 1)
		t.RawSetString("config", L.Get(-1))
		L.Pop(1)
	}
	L.Push(t)
	return 1
}

// luaJSONField is jsonField with the worker's cjson.safe, for cjson's
// messages.
func (in *Instance) luaJSONField(doc, key string) (string, string) {
	L := in.L
	v, err := in.JSON().Decode(L, doc)
	if err != "" {
		return "", "unable to json decode value (nil): " + err
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		return "", "unable to json decode value (" + L.ToStringMeta(v).String() + "): nil"
	}
	switch x := t.RawGetString(key).(type) {
	case *lua.LNilType:
		return subfield(nil, key)
	case lua.LString:
		return string(x), ""
	default:
		return "", "unexpected " + x.Type().String() + " value in JSON secret for subfield " + key
	}
}

// vaultGetLua is kong.vault.get(reference): the value, or nil and Kong's
// message (nil alone while a failure is cached).
func (in *Instance) vaultGetLua(L *lua.LState) int {
	ref := L.Get(1)
	s, isStr := ref.(lua.LString)
	if !isStr || !schema.IsReference(string(s)) {
		return bind.Fail(L, "not a reference ["+L.ToStringMeta(ref).String()+"]")
	}
	v, ok, msg := in.Root.vaultGet(string(s), vaultCached, in.luaJSONField)
	if ok {
		L.Push(lua.LString(v))
		return 1
	}
	if msg == "" {
		L.Push(lua.LNil)
		return 1
	}
	return bind.Fail(L, msg)
}

// vaultUpdate is kong.vault.update(options): every "$refs" entry of the
// table and of its sub-tables is set again from the secrets already
// resolved (Kong's update_from_cache: "" and a warning for one that is
// not), and the table returned.
func (in *Instance) vaultUpdate(L *lua.LState) int {
	cfg := L.Get(1)
	if t, ok := cfg.(*lua.LTable); ok {
		in.updateRefs(t)
	}
	L.Push(cfg)
	return 1
}

// tableWalk is a recursive walk over a table and its sub-tables that
// visits each table once (a table shared by two fields is done once: the
// walks here are idempotent) and raises Lua's "stack overflow" when a
// table contains itself, as Kong's recursive Lua function ends on such a
// table, instead of recursing in Go until the process dies; so does a
// chain of tables nested deeper than bind.MaxRecursion.
type tableWalk struct {
	done, path map[*lua.LTable]bool
}

func newTableWalk() *tableWalk {
	return &tableWalk{done: map[*lua.LTable]bool{}, path: map[*lua.LTable]bool{}}
}

// enter reports whether t is to be walked now (not done before); a table
// on the current path raises. leave must follow a true enter.
func (w *tableWalk) enter(L *lua.LState, t *lua.LTable) bool {
	if w.path[t] || len(w.path) >= bind.MaxRecursion {
		L.RaiseError("stack overflow")
	}
	if w.done[t] {
		return false
	}
	w.path[t] = true
	return true
}

func (w *tableWalk) leave(t *lua.LTable) {
	delete(w.path, t)
	w.done[t] = true
}

func (in *Instance) updateRefs(t *lua.LTable) {
	in.updateRefsWalk(t, newTableWalk())
}

func (in *Instance) updateRefsWalk(t *lua.LTable, w *tableWalk) {
	L := in.L
	if !w.enter(L, t) {
		return
	}
	defer w.leave(t)
	var subs []*lua.LTable
	t.ForEach(func(k, v lua.LValue) {
		if st, ok := v.(*lua.LTable); ok && k != lua.LString("$refs") {
			subs = append(subs, st)
		}
	})
	for _, st := range subs {
		in.updateRefsWalk(st, w)
	}
	refs, ok := t.RawGetString("$refs").(*lua.LTable)
	if !ok {
		return
	}
	type upd struct {
		rec       lua.LValue
		field     lua.LValue
		reference lua.LValue
	}
	var todo []upd
	refs.ForEach(func(name, ref lua.LValue) {
		switch r := ref.(type) {
		case lua.LString:
			todo = append(todo, upd{t, name, r})
		case *lua.LTable:
			rec := t.RawGet(name)
			r.ForEach(func(k, ref lua.LValue) { todo = append(todo, upd{rec, k, ref}) })
		}
	})
	for _, u := range todo {
		var val lua.LValue = lua.LString("")
		if s, isStr := u.reference.(lua.LString); isStr && schema.IsReference(string(s)) {
			v, ok, msg := in.Root.vaultGet(string(s), vaultCacheOnly, in.luaJSONField)
			if ok {
				val = lua.LString(v)
			} else if msg != "" {
				in.vaultWarn(lua.LString("error updating secret reference "), u.reference, lua.LString(": "), lua.LString(msg))
			}
		} else {
			in.vaultWarn(lua.LString("error updating secret reference "), u.reference, lua.LString(": "), lua.LString("not a reference ["+L.ToStringMeta(u.reference).String()+"]"))
		}
		L.SetTable(u.rec, u.field, val)
	}
}

// vaultWarn is Kong's self.log.warn(...): kong.log of the moment.
func (in *Instance) vaultWarn(args ...lua.LValue) {
	L := in.L
	L.Push(L.GetField(L.GetField(in.kong, "log"), "warn"))
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), 0)
}

// vaultTry is kong.vault.try(callback, options): callback(options) with
// its references set from the secrets resolved; when that answers nil or
// false, the references are read again from the vault (Kong's
// rotate_references, its warnings included) and callback runs once more.
// Without references it is callback(options).
func (in *Instance) vaultTry(L *lua.LState) int {
	callback, options := L.Get(1), L.Get(2)
	refs := collectRefs(L, options, nil, map[string]bool{}, newTableWalk())
	callAll := func() int {
		if t, ok := options.(*lua.LTable); ok {
			in.updateRefs(t)
		}
		top := L.GetTop()
		L.Push(callback)
		L.Push(options)
		L.Call(1, lua.MultRet)
		return L.GetTop() - top
	}
	if len(refs) == 0 {
		top := L.GetTop()
		L.Push(callback)
		L.Push(options)
		L.Call(1, lua.MultRet)
		return L.GetTop() - top
	}
	var res lua.LValue = lua.LNil
	if n := callAll(); n > 0 {
		res = L.Get(-n)
		L.Pop(n)
	}
	if lua.LVAsBool(res) {
		L.Push(res)
		return 1
	}
	sort.Strings(refs)
	for _, ref := range refs {
		if _, msg := parseVaultReference(ref); msg != "" {
			in.vaultWarn(lua.LString("could not parse reference " + ref + " (" + msg + ")"))
			continue
		}
		if _, ok, msg := in.Root.vaultGet(ref, vaultRefresh, in.luaJSONField); !ok {
			in.vaultWarn(lua.LString("could not retrieve value for reference " + ref + " (" + msg + ")"))
		}
	}
	return callAll()
}

// collectRefs is Kong's get_references: the distinct string references
// of options' "$refs", its sub-tables' first.
func collectRefs(L *lua.LState, v lua.LValue, refs []string, seen map[string]bool, w *tableWalk) []string {
	t, ok := v.(*lua.LTable)
	if !ok || !w.enter(L, t) {
		return refs
	}
	defer w.leave(t)
	var subs []lua.LValue
	t.ForEach(func(k, v lua.LValue) {
		if _, isT := v.(*lua.LTable); isT && k != lua.LString("$refs") {
			subs = append(subs, v)
		}
	})
	for _, s := range subs {
		refs = collectRefs(L, s, refs, seen, w)
	}
	add := func(r lua.LValue) {
		if s, ok := r.(lua.LString); ok && !seen[string(s)] {
			seen[string(s)] = true
			refs = append(refs, string(s))
		}
	}
	if rt, ok := t.RawGetString("$refs").(*lua.LTable); ok {
		rt.ForEach(func(_, r lua.LValue) {
			if inner, ok := r.(*lua.LTable); ok {
				inner.ForEach(func(_, r lua.LValue) { add(r) })
			} else {
				add(r)
			}
		})
	}
	return refs
}
