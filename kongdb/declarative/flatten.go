package declarative

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// FormatVersions are the _format_version values Kong accepts.
var FormatVersions = []string{"1.1", "2.1", "3.0"}

// Config is a parsed, flattened and checked declarative configuration:
// every entity of the file, nested ones included, in the order they can be
// written (an entity after those it references).
type Config struct {
	FormatVersion string
	Transform     bool
	Entries       []*Entry
	// Hash is the md5 of the file's bytes (Kong's config hash), "" when
	// the config did not come from bytes.
	Hash string
}

// Entry is one entity of the file.
type Entry struct {
	Entity string
	// Path is where the entity is in the file: "services[1].routes[2]"
	// (1-based, as Kong counts entries).
	Path string
	Line int
	// Row holds the entity's fields, with its primary key set and foreign
	// keys resolved to {id = ...}; nested entities are Entries of their own.
	Row map[string]any
	// TTL is the entity's absolute expiry (unix seconds), as db_export
	// writes it, or 0.
	TTL float64

	input     map[string]any // the item as written (for flattened errors)
	childKey  string         // the foreign field set from the parent entity
	parentRef any            // what the item itself gave for childKey, if anything
	// unresolved are the foreign fields naming nothing (reported as
	// invalid references, not again by the schema)
	unresolved []string
	segs       []seg
}

type seg struct {
	entity string
	index  int
}

// ParseOptions tune Parse.
type ParseOptions struct {
	// Partial: the file is not the whole configuration (db_import):
	// references may name entities already stored in the DB.
	Partial bool
}

type parser struct {
	ctx   context.Context
	db    *kongdb.DB
	doc   *document
	opts  ParseOptions
	known []string                     // entity names, in registry (topological) order
	order map[string]int               // entity -> position in known
	kids  map[string]map[string]string // parent entity -> child entity -> child's foreign field

	entries []*Entry
	byID    map[string]map[string]*Entry // entity -> pk string -> entry
	byKey   map[string]map[string]*Entry // entity -> endpoint key value -> entry
	errs    *Error
}

// Parse decodes data (YAML or JSON; filename picks nothing but the error
// text, as in Kong) and checks it against db's schemas: Kong's file format
// with _format_version "3.0", "2.1" and "1.1", nested entities, foreign keys
// by name or id, plugins' own entities, and every error listed (*Error).
func Parse(ctx context.Context, db *kongdb.DB, data []byte, filename string, opts ParseOptions) (*Config, error) {
	doc, err := decode(data, filename)
	if err != nil {
		return nil, syntaxError(err.Error())
	}
	cfg, err := parseDocument(ctx, db, doc, opts)
	if err != nil {
		return nil, err
	}
	cfg.Hash = contentHash(data)
	return cfg, nil
}

// ParseTable checks an already decoded configuration (a JSON body).
func ParseTable(ctx context.Context, db *kongdb.DB, root map[string]any, opts ParseOptions) (*Config, error) {
	return parseDocument(ctx, db, &document{root: root}, opts)
}

func parseDocument(ctx context.Context, db *kongdb.DB, doc *document, opts ParseOptions) (*Config, error) {
	p := &parser{ctx: ctx, db: db, doc: doc, opts: opts, order: map[string]int{},
		kids: map[string]map[string]string{}, byID: map[string]map[string]*Entry{},
		byKey: map[string]map[string]*Entry{}, errs: &Error{}}
	for _, name := range db.Registry.Names() {
		if name == "tags" || db.DAO(name) == nil {
			continue // tags are derived from the other entities, as in Kong
		}
		p.order[name] = len(p.known)
		p.known = append(p.known, name)
	}
	for _, name := range p.known {
		for _, f := range db.DAO(name).Schema.Fields {
			if f.Type == schema.TypeForeign {
				if p.kids[f.Reference] == nil {
					p.kids[f.Reference] = map[string]string{}
				}
				p.kids[f.Reference][name] = f.Name
			}
		}
	}
	cfg := &Config{Transform: true}
	root := doc.root
	migrateFormat(root)
	p.topLevel(root, cfg)
	for _, name := range p.known {
		if v, ok := root[name]; ok {
			p.walk(name, v, nil, nil)
		}
	}
	p.resolveReferences()
	p.checkUniques()
	p.validate()
	if p.errs.has() {
		p.errs.finish()
		return nil, p.errs
	}
	sort.SliceStable(p.entries, func(i, j int) bool {
		return p.order[p.entries[i].Entity] < p.order[p.entries[j].Entity]
	})
	cfg.Entries = p.entries
	return cfg, nil
}

// topLevel checks the keys that are not entities.
func (p *parser) topLevel(root map[string]any, cfg *Config) {
	keys := sortedKeys(root)
	for _, k := range keys {
		v := root[k]
		switch k {
		case "_format_version":
			s, ok := v.(string)
			switch {
			case schema.IsNull(v):
				p.errs.top(k, "required field missing")
			case !ok:
				p.errs.top(k, "expected a string")
			case !contains(FormatVersions, s):
				p.errs.top(k, "expected one of: "+strings.Join(FormatVersions, ", "))
			default:
				cfg.FormatVersion = s
			}
		case "_transform":
			b, ok := v.(bool)
			if !ok && !schema.IsNull(v) {
				p.errs.top(k, "expected a boolean")
			} else if ok {
				cfg.Transform = b
			}
		case "_comment":
			if _, ok := v.(string); !ok && !schema.IsNull(v) {
				p.errs.top(k, "expected a string")
			}
		case "_ignore":
			if _, ok := v.([]any); !ok && !schema.IsNull(v) {
				p.errs.top(k, "expected an array")
			}
		default:
			if _, ok := p.order[k]; !ok {
				p.errs.top(k, "unknown field")
			}
		}
	}
	if _, ok := root["_format_version"]; !ok {
		p.errs.top("_format_version", "required field missing")
	}
}

// walk reads the list of entity items under key entity (top level, or
// nested under parent).
func (p *parser) walk(entity string, v any, parent *Entry, at []seg) {
	if schema.IsNull(v) {
		return
	}
	list, ok := v.([]any)
	if !ok {
		p.errs.at(append(copySegs(at), seg{entity, 0}), "", "expected an array")
		return
	}
	d := p.db.DAO(entity)
	s := d.Schema
	childKey := ""
	if parent != nil {
		childKey = p.kids[parent.Entity][entity]
	}
	for i, item := range list {
		segs := append(copySegs(at), seg{entity, i + 1})
		p.errs.note(pathString(segs))
		m, ok := item.(map[string]any)
		if !ok {
			p.errs.at(segs, "", "expected a record")
			continue
		}
		e := &Entry{Entity: entity, Path: pathString(segs), Line: p.doc.lineOf(m), input: m,
			childKey: childKey, segs: segs}
		row := make(map[string]any, len(m))
		nested := map[string]any{}
		for k, fv := range m {
			switch {
			case k == "_comment" || k == "_ignore":
			case k == "ttl" && s.TTL:
				if n, ok := fv.(float64); ok {
					e.TTL = n
				} else if !schema.IsNull(fv) {
					p.errs.at(segs, "ttl", "expected a number")
				}
			case p.isNested(entity, s, k):
				nested[k] = fv
			default:
				row[k] = fv
			}
		}
		var parentPK map[string]any
		if parent != nil && childKey != "" {
			parentPK = parent.pk(p.db)
			if v, ok := row[childKey]; ok && !schema.IsNull(v) {
				e.parentRef = v // checked as a reference, as Kong does (#7696)
			}
			row[childKey] = parent.pk(p.db)
		}
		p.assignID(entity, s, row, parentPK, childKey)
		e.Row = row
		p.index(e)
		p.entries = append(p.entries, e)
		for _, child := range p.known {
			if cv, ok := nested[child]; ok {
				p.walk(child, cv, e, segs)
			}
		}
	}
}

// isNested: key k of an entity item is a list of child entities (routes
// under a service, credentials under a consumer) unless the entity has a
// field of that name.
func (p *parser) isNested(entity string, s *schema.Schema, k string) bool {
	if _, ok := p.kids[entity][k]; !ok {
		return false
	}
	f := s.Field(k)
	return f == nil || f.Transient
}

func (e *Entry) pk(db *kongdb.DB) map[string]any {
	s := db.DAO(e.Entity).Schema
	out := map[string]any{}
	for _, k := range s.PrimaryKey {
		if v, ok := e.Row[k]; ok {
			out[k] = v
		}
	}
	return out
}

// pkString is Kong's DeclarativeConfig.pk_string.
func pkString(s *schema.Schema, row map[string]any) string {
	var parts []string
	for _, k := range s.PrimaryKey {
		v := row[k]
		if m, ok := v.(map[string]any); ok {
			v = m["id"]
		}
		parts = append(parts, scalarString(v))
	}
	return strings.Join(parts, ":")
}

func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return kongdb.FormatNumber(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return kongdb.Pretty(v)
}

// index records e by primary key and unique endpoint key, reporting
// duplicates with Kong's message.
func (p *parser) index(e *Entry) {
	s := p.db.DAO(e.Entity).Schema
	failed := false
	if ek := s.EndpointKey; ek != "" {
		if f := s.Field(ek); f != nil && f.Unique {
			if key, ok := e.Row[ek].(string); ok {
				if p.byKey[e.Entity] == nil {
					p.byKey[e.Entity] = map[string]*Entry{}
				}
				if p.byKey[e.Entity][key] != nil {
					p.errs.atEntry(e, uniquenessMsg(e.Entity, ek, key))
					failed = true
				} else {
					p.byKey[e.Entity][key] = e
				}
			}
		}
	}
	id := pkString(s, e.Row)
	if p.byID[e.Entity] == nil {
		p.byID[e.Entity] = map[string]*Entry{}
	}
	if p.byID[e.Entity][id] != nil {
		if !failed {
			p.errs.atEntry(e, uniquenessMsg(e.Entity, "primary key", id))
		}
		return
	}
	p.byID[e.Entity][id] = e
}

func uniquenessMsg(entity, key, value string) string {
	return "uniqueness violation: '" + entity + "' entity with " + key + " set to '" + value + "' already declared"
}

// entitiesNamespace is Kong's namespace for the ids it derives from
// entity keys (declarative_config.lua uuid_generators._entities).
var entitiesNamespace = uuid.MustParse("fd02801f-0957-4a15-a55a-c8d9606f30b5")

// generateUUID is Kong's generate_uuid(namespace, name): a v5 UUID of name
// in a namespace derived from the entity's name.
func generateUUID(entity, name string) string {
	ns := uuid.NewSHA1(entitiesNamespace, []byte(entity))
	return uuid.NewSHA1(ns, []byte(name)).String()
}

// assignID gives an entity without a primary key the id Kong DB-less
// gives it: derived from its cache key or endpoint key when it has one
// (so the same file yields the same ids), else a random one.
func (p *parser) assignID(entity string, s *schema.Schema, row, parent map[string]any, childKey string) {
	if len(s.PrimaryKey) != 1 {
		return
	}
	name := s.PrimaryKey[0]
	if _, ok := row[name]; ok {
		return
	}
	f := s.Field(name)
	if f == nil || !f.UUID {
		return
	}
	if key, ok := p.uuidKey(entity, s, row, parent, childKey); ok {
		row[name] = generateUUID(entity, key)
		return
	}
	row[name] = uuid.NewString()
}

// uuidKey is Kong's get_key_for_uuid_gen.
func (p *parser) uuidKey(entity string, s *schema.Schema, row, parent map[string]any, childKey string) (string, bool) {
	if len(s.CacheKey) > 0 {
		return buildCacheKey(entity, s, row, parent, childKey)
	}
	ek := s.EndpointKey
	if ek == "" {
		return "", false
	}
	v, ok := row[ek]
	if !ok {
		return "", false
	}
	key := scalarString(v)
	f := s.Field(ek)
	if f != nil && !f.Unique {
		for _, ff := range s.Fields {
			if ff.Type != schema.TypeForeign || ff.OnDelete != "cascade" {
				continue
			}
			if parent != nil {
				if rs := p.db.DAO(ff.Reference); rs != nil {
					for _, k := range rs.Schema.PrimaryKey {
						key += ":" + scalarString(parent[k])
					}
				}
			} else {
				fv := row[ff.Name]
				if m, ok := fv.(map[string]any); ok {
					fv = m["id"]
				}
				key += ":" + scalarString(fv)
			}
		}
		if !f.UniqueAcrossWS {
			key += ":*"
		}
	}
	return key, true
}

// buildCacheKey is Kong's build_cache_key for id generation ("*" stands
// for the workspace, which a file does not give).
func buildCacheKey(entity string, s *schema.Schema, row, parent map[string]any, childKey string) (string, bool) {
	ck := []string{entity, "*"}
	for _, k := range s.CacheKey {
		f := s.Field(k)
		if f == nil || f.Auto {
			return "", false
		}
		v, present := row[k]
		switch x := v.(type) {
		case string:
			ck = append(ck, x)
		default:
			if present && !(k == childKey && parent != nil) {
				continue // Kong appends nothing for a table or null value
			}
			if k == childKey && parent != nil {
				id, ok := parent["id"].(string)
				if !ok || len(parent) != 1 {
					return "", false
				}
				ck = append(ck, id)
			} else if f.Required {
				return "", false
			} else {
				ck = append(ck, "")
			}
		}
	}
	return strings.Join(ck, ":"), true
}

// resolveReferences turns foreign keys given by name or id into {id = ...},
// reporting Kong's "invalid reference" for those naming nothing.
func (p *parser) resolveReferences() {
	for _, e := range p.entries {
		s := p.db.DAO(e.Entity).Schema
		for _, f := range s.Fields {
			if f.Type != schema.TypeForeign {
				continue
			}
			v, ok := e.Row[f.Name]
			if f.Name == e.childKey {
				v, ok = e.parentRef, e.parentRef != nil
			}
			if !ok || schema.IsNull(v) {
				continue
			}
			var key string
			switch x := v.(type) {
			case string:
				key = x
			case map[string]any:
				id, ok := x["id"].(string)
				if !ok {
					continue // the schema reports a malformed key
				}
				key = id
			default:
				continue
			}
			if found := p.find(f.Reference, key); found != nil {
				if f.Name != e.childKey {
					e.Row[f.Name] = found
				}
				continue
			}
			shown := key
			if _, isStr := v.(string); !isStr {
				shown = jsonString(v)
			}
			e.unresolved = append(e.unresolved, f.Name)
			p.errs.ref(e, "invalid reference '"+f.Name+": "+shown+"' (no such entry in '"+f.Reference+"')")
		}
	}
}

// find looks an entity up by endpoint key or primary key among the file's
// entries, then (Partial) in the DB; it returns its primary key.
func (p *parser) find(entity, key string) map[string]any {
	if e := p.byKey[entity][key]; e != nil {
		return e.pk(p.db)
	}
	if e := p.byID[entity][key]; e != nil {
		return e.pk(p.db)
	}
	if !p.opts.Partial {
		return nil
	}
	d := p.db.DAO(entity)
	if d == nil {
		return nil
	}
	if _, err := uuid.Parse(key); err == nil && len(d.Schema.PrimaryKey) == 1 {
		if row, err := d.Select(p.ctx, map[string]any{d.Schema.PrimaryKey[0]: key}, nil); err == nil && row != nil {
			return d.ExtractPK(row)
		}
	}
	if ek := d.Schema.EndpointKey; ek != "" {
		if row, err := d.SelectBy(p.ctx, ek, key, nil); err == nil && row != nil {
			return d.ExtractPK(row)
		}
	}
	return nil
}

// checkUniques reports two entries sharing a unique field's value (Kong's
// flatten does it after references are resolved).
func (p *parser) checkUniques() {
	seen := map[string]map[string]map[string]bool{}
	for _, e := range p.entries {
		s := p.db.DAO(e.Entity).Schema
		for _, f := range s.Fields {
			if !f.Unique || f.Name == s.EndpointKey {
				continue
			}
			v, ok := e.Row[f.Name]
			if !ok || schema.IsNull(v) {
				continue
			}
			if m, ok := v.(map[string]any); ok {
				v = m["id"]
			}
			key := scalarString(v)
			if seen[e.Entity] == nil {
				seen[e.Entity] = map[string]map[string]bool{}
			}
			if seen[e.Entity][f.Name] == nil {
				seen[e.Entity][f.Name] = map[string]bool{}
			}
			if seen[e.Entity][f.Name][key] {
				p.errs.atEntry(e, uniquenessMsg(e.Entity, f.Name, key))
				continue
			}
			seen[e.Entity][f.Name][key] = true
		}
	}
}

// validate runs each entity through its schema as the DAO's insert would
// (process_auto_fields, then a full validation), so the messages are
// Kong's.
func (p *parser) validate() {
	for _, e := range p.entries {
		s := p.db.DAO(e.Entity).Schema
		processed, errs, err := s.ProcessAutoFields(p.ctx, e.Row, schema.CtxInsert, nil)
		if err == nil && errs == nil {
			errs, err = s.ValidateInsert(p.ctx, processed, e.Row)
		}
		if err != nil {
			p.errs.at(e.segs, "", err.Error())
			continue
		}
		for _, name := range e.unresolved {
			delete(errs, name)
		}
		if len(errs) > 0 {
			p.errs.fields(e, errs)
		}
	}
}

// migrateFormat upgrades a 1.1 or 2.1 file to 3.0 as Kong does on the
// fly: route paths that are regexes get the "~" prefix 3.0 requires.
func migrateFormat(root map[string]any) {
	v, _ := root["_format_version"].(string)
	if v != "1.1" && v != "2.1" {
		return
	}
	migrateRoutes := func(routes any) {
		list, _ := routes.([]any)
		for _, r := range list {
			m, _ := r.(map[string]any)
			paths, _ := m["paths"].([]any)
			for i, path := range paths {
				if s, ok := path.(string); ok && !plainPath(s) {
					paths[i] = "~" + s
				}
			}
		}
	}
	migrateRoutes(root["routes"])
	services, _ := root["services"].([]any)
	for _, s := range services {
		if m, ok := s.(map[string]any); ok {
			migrateRoutes(m["routes"])
		}
	}
	root["_format_version"] = "3.0"
}

// plainPath is Kong's is_not_regex: only [a-zA-Z0-9.\-_~/%] characters.
func plainPath(s string) bool {
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune(".-_~/%", c):
		default:
			return false
		}
	}
	return true
}

func pathString(segs []seg) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.entity)
		if s.index > 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
		}
	}
	return b.String()
}

func copySegs(s []seg) []seg { return append([]seg(nil), s...) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
