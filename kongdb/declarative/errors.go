package declarative

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// Problem is one error in a declarative file.
type Problem struct {
	Entity  string // "services", "" for the file's top level
	Path    string // "services[1].routes[2]"
	Line    int    // where the entity starts in the file, 0 if unknown
	Field   string // "paths.1", "" for the entity as a whole
	Message string // Kong's message
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
	} else {
		b.WriteString("(top level)")
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is an invalid declarative configuration: Kong's err_t of code 14
// (DECLARATIVE_CONFIG), with every problem listed.
type Error struct {
	// Fields is Kong's error table: by entity, then entry index (1-based,
	// nested as in the file), then field.
	Fields map[string]any
	// Problems lists every error, in file order.
	Problems []Problem
	// Flattened is the flattened_errors list POST /config?flatten_errors=1
	// answers.
	Flattened []map[string]any

	tree    map[any]any
	seq     map[string]int // path -> position in the file
	byEntry map[*Entry][]Problem
	order   []*Entry
}

func (e *Error) Error() string {
	return "declarative config is invalid: " + kongdb.Pretty(e.Fields)
}

// Listing is the problems one per line (the CLI's output).
func (e *Error) Listing() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Body is the Admin API's JSON body for the error (POST /config, 400):
// Kong's {code, name, message, fields}, with flattened_errors when asked.
func (e *Error) Body(flattened bool) map[string]any {
	b := map[string]any{
		"code":    int(kongdb.DeclarativeConfig),
		"name":    "invalid declarative configuration",
		"message": e.Error(),
		"fields":  schema.JSONReady(e.Fields),
	}
	if flattened {
		fl := e.Flattened
		if fl == nil {
			fl = []map[string]any{}
		}
		b["flattened_errors"] = fl
	}
	return b
}

func syntaxError(msg string) *Error {
	e := &Error{}
	e.tree = map[any]any{"error": msg}
	e.Problems = []Problem{{Message: msg}}
	e.finish()
	return e
}

func (e *Error) has() bool { return len(e.Problems) > 0 }

func (e *Error) root() map[any]any {
	if e.tree == nil {
		e.tree = map[any]any{}
	}
	return e.tree
}

// top records an error on a top-level key of the file.
func (e *Error) top(key, msg string) {
	e.root()[key] = msg
	e.Problems = append(e.Problems, Problem{Field: key, Message: msg})
}

// node returns the error table of the entry at segs, creating it.
func (e *Error) node(segs []seg) map[any]any {
	cur := e.root()
	for _, s := range segs {
		list, ok := cur[s.entity].(map[any]any)
		if !ok {
			list = map[any]any{}
			cur[s.entity] = list
		}
		if s.index == 0 {
			return list
		}
		item, ok := list[s.index].(map[any]any)
		if !ok {
			item = map[any]any{}
			if msg, isStr := list[s.index].(string); isStr {
				item["@entity"] = []any{msg}
			}
			list[s.index] = item
		}
		cur = item
	}
	return cur
}

// at records msg on the entry at segs (field "" = the entry itself).
func (e *Error) at(segs []seg, field, msg string) {
	last := segs[len(segs)-1]
	parent := e.node(segs[:len(segs)-1])
	list, ok := parent[last.entity].(map[any]any)
	switch {
	case last.index == 0:
		parent[last.entity] = msg
	case field == "":
		if !ok {
			list = map[any]any{}
			parent[last.entity] = list
		}
		if item, isMap := list[last.index].(map[any]any); isMap {
			ents, _ := item["@entity"].([]any)
			item["@entity"] = append(ents, msg)
		} else {
			list[last.index] = msg
		}
	default:
		e.node(segs)[field] = msg
	}
	e.add(segs, field, msg)
}

// atEntry records msg on entry en as a whole (uniqueness): in the tree at
// its path, and in the listing and flattened errors with its line.
func (e *Error) atEntry(en *Entry, msg string) {
	last := en.segs[len(en.segs)-1]
	parent := e.node(en.segs[:len(en.segs)-1])
	list, ok := parent[last.entity].(map[any]any)
	if !ok {
		list = map[any]any{}
		parent[last.entity] = list
	}
	if item, isMap := list[last.index].(map[any]any); isMap {
		ents, _ := item["@entity"].([]any)
		item["@entity"] = append(ents, msg)
	} else {
		list[last.index] = msg
	}
	e.entryProblem(en, Problem{Entity: en.Entity, Path: en.Path, Line: en.Line, Message: msg})
}

func (e *Error) add(segs []seg, field, msg string) {
	p := Problem{Entity: segs[len(segs)-1].entity, Path: pathString(segs), Field: field, Message: msg}
	e.Problems = append(e.Problems, p)
}

// ref records an invalid reference as Kong does: under the entity's name
// at the top, keyed by its endpoint key or id, a list of messages.
func (e *Error) ref(en *Entry, msg string) {
	list, ok := e.root()[en.Entity].(map[any]any)
	if !ok {
		list = map[any]any{}
		e.root()[en.Entity] = list
	}
	at := any(nil)
	if s := en.schemaEndpointKeyValue(); s != "" {
		at = s
	} else if id, ok := en.Row["id"].(string); ok {
		at = id
	} else {
		at = en.segs[len(en.segs)-1].index
	}
	msgs, _ := list[at].([]any)
	list[at] = append(msgs, msg)
	e.entryProblem(en, Problem{Entity: en.Entity, Path: en.Path, Line: en.Line, Message: msg})
}

// fields records a schema error table on the entry.
func (e *Error) fields(en *Entry, errs map[string]any) {
	n := e.node(en.segs)
	for k, v := range errs {
		n[k] = v
	}
	for _, f := range flattenFieldErrors(errs, "") {
		e.entryProblem(en, Problem{Entity: en.Entity, Path: en.Path, Line: en.Line, Field: f[0], Message: f[1]})
	}
}

func (e *Error) entryProblem(en *Entry, p Problem) {
	e.Problems = append(e.Problems, p)
	if e.byEntry == nil {
		e.byEntry = map[*Entry][]Problem{}
	}
	if _, seen := e.byEntry[en]; !seen {
		e.order = append(e.order, en)
	}
	e.byEntry[en] = append(e.byEntry[en], p)
}

func (en *Entry) schemaEndpointKeyValue() string {
	// the caller only needs a printable key: name, username, key...
	for _, k := range []string{"name", "username", "key"} {
		if s, ok := en.input[k].(string); ok {
			return s
		}
	}
	return ""
}

// flattenFieldErrors turns a schema error table into (field path,
// message) pairs, "@entity" messages with an empty path, keys sorted.
func flattenFieldErrors(v any, ns string) [][2]string {
	var out [][2]string
	join := func(k string) string {
		if ns == "" {
			return k
		}
		return ns + "." + k
	}
	switch t := v.(type) {
	case string:
		out = append(out, [2]string{ns, t})
	case []any:
		if ns == "" || strings.HasSuffix(ns, "@entity") {
			for _, m := range t {
				out = append(out, flattenFieldErrors(m, strings.TrimSuffix(ns, "@entity"))...)
			}
			break
		}
		for i, m := range t {
			if m != nil {
				out = append(out, flattenFieldErrors(m, join(strconv.Itoa(i+1)))...)
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if k == "@entity" {
				if list, ok := t[k].([]any); ok {
					for _, m := range list {
						out = append(out, [2]string{strings.TrimSuffix(ns, "."), fmt.Sprint(m)})
					}
				} else {
					out = append(out, [2]string{ns, fmt.Sprint(t[k])})
				}
				continue
			}
			out = append(out, flattenFieldErrors(t[k], join(k))...)
		}
	case map[int]any:
		keys := make([]int, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		for _, k := range keys {
			out = append(out, flattenFieldErrors(t[k], join(strconv.Itoa(k)))...)
		}
	case nil:
	default:
		out = append(out, [2]string{ns, fmt.Sprint(t)})
	}
	return out
}

// note notes that the entry at path comes next in the file.
func (e *Error) note(path string) {
	if e.seq == nil {
		e.seq = map[string]int{}
	}
	if _, ok := e.seq[path]; !ok {
		e.seq[path] = len(e.seq) + 1
	}
}

// finish builds Fields (Kong's err_t fields) and the flattened errors, and
// puts the problems in file order.
func (e *Error) finish() {
	sort.SliceStable(e.Problems, func(i, j int) bool {
		return e.seq[e.Problems[i].Path] < e.seq[e.Problems[j].Path]
	})
	if m, ok := convertTree(e.tree).(map[string]any); ok {
		e.Fields = m
	} else {
		e.Fields = map[string]any{}
	}
	// entity-level problems recorded by path (uniqueness, wrong types)
	// join the flattened list too
	for _, en := range e.order {
		e.Flattened = append(e.Flattened, flattenedEntry(en, e.byEntry[en]))
	}
}

// convertTree turns the error tree into JSON-ready values: a table with
// only integer keys becomes an array when cjson would encode it as one
// (dense enough), else an object with string keys.
func convertTree(v any) any {
	t, ok := v.(map[any]any)
	if !ok {
		return v
	}
	maxIdx, n, allInts := 0, 0, true
	for k := range t {
		i, isInt := k.(int)
		if !isInt || i < 1 {
			allInts = false
			break
		}
		n++
		if i > maxIdx {
			maxIdx = i
		}
	}
	if allInts && n > 0 && (maxIdx <= 10 || maxIdx <= 2*n) {
		arr := make([]any, maxIdx)
		for k, x := range t {
			arr[k.(int)-1] = convertTree(x)
		}
		return arr
	}
	out := make(map[string]any, len(t))
	for k, x := range t {
		out[fmt.Sprint(k)] = convertTree(x)
	}
	return out
}

// flattenedEntry is one element of Kong's flattened_errors.
func flattenedEntry(en *Entry, probs []Problem) map[string]any {
	entity := map[string]any{}
	for k, v := range en.input {
		entity[k] = v
	}
	for k := range entity {
		if _, isList := entity[k].([]any); isList && k != "tags" && en.isChildList(k) {
			delete(entity, k)
		}
	}
	if en.childKey != "" {
		entity[en.childKey] = en.Row[en.childKey]
	}
	var errs []any
	for _, p := range probs {
		if p.Field == "" {
			errs = append(errs, map[string]any{"type": "entity", "message": p.Message})
		} else {
			errs = append(errs, map[string]any{"type": "field", "field": p.Field, "message": p.Message})
		}
	}
	out := map[string]any{
		"entity_type": strings.TrimSuffix(en.Entity, "s"),
		"entity":      schema.JSONReady(entity),
		"errors":      errs,
	}
	if s, ok := en.input["name"].(string); ok && s != "" {
		out["entity_name"] = s
	}
	if s, ok := en.input["id"].(string); ok {
		if _, err := uuid.Parse(s); err == nil {
			out["entity_id"] = s
		}
	}
	if tags, ok := en.input["tags"].([]any); ok {
		good := true
		for _, t := range tags {
			if _, isStr := t.(string); !isStr {
				good = false
			}
		}
		if good {
			out["entity_tags"] = tags
		}
	}
	return out
}

// isChildList: key k of the entry's input was a nested entity list (it is
// not among the entity's fields).
func (en *Entry) isChildList(k string) bool {
	_, isField := en.Row[k]
	return !isField
}

func jsonString(v any) string {
	b, err := json.Marshal(schema.JSONReady(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func contentHash(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}
