package declarative

import (
	"context"
	"io"
	"math"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// ExportOptions tune Export.
type ExportOptions struct {
	// Workspaces includes the workspaces entity (Kong's db_export skips it).
	Workspaces bool
}

// ExportTable is the current contents of db as a declarative table
// (Kong's export_from_db): _format_version "3.0", _transform false, then
// each entity with db_export unset or true, in topological order, foreign
// keys as ids, nulls kept, ttl as an absolute time.
func ExportTable(ctx context.Context, db *kongdb.DB, opts ExportOptions) (map[string]any, []string, error) {
	out := map[string]any{"_format_version": "3.0", "_transform": false}
	var order []string
	for _, name := range db.Registry.Names() {
		d := db.DAO(name)
		if d == nil || !d.Schema.DBExport || (name == "workspaces" && !opts.Workspaces) {
			continue
		}
		rows, err := allRows(ctx, d)
		if err != nil {
			return nil, nil, err
		}
		if len(rows) == 0 {
			continue
		}
		list := make([]any, len(rows))
		for i, row := range rows {
			for _, f := range d.Schema.Fields {
				if f.Type != schema.TypeForeign {
					continue
				}
				if m, ok := row[f.Name].(map[string]any); ok {
					if id, ok := m["id"]; ok {
						row[f.Name] = id
					}
				}
			}
			list[i] = row
		}
		out[name] = list
		order = append(order, name)
	}
	return out, order, nil
}

// Export writes the current contents of db as a YAML declarative file
// (`kong config db_export`); Import or Load read it back unchanged.
func Export(ctx context.Context, db *kongdb.DB, w io.Writer, opts ExportOptions) error {
	t, order, err := ExportTable(ctx, db, opts)
	if err != nil {
		return err
	}
	doc := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v any) {
		doc.Content = append(doc.Content, str(k), node(v))
	}
	add("_format_version", t["_format_version"])
	add("_transform", t["_transform"])
	for _, name := range order {
		add(name, t[name])
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// node builds the YAML of a value: keys sorted, whole numbers without an
// exponent, strings quoted when YAML would read them as something else.
func node(v any) *yaml.Node {
	switch x := v.(type) {
	case nil, schema.NullType:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(x), 10)}
		}
		// plain decimals where Kong's %.14g writes them so (a target's
		// created_at 1796436710.03, not 1.79643671003e+09)
		f := byte('g')
		if a := math.Abs(x); a >= 1e-4 && a < 1e15 {
			f = 'f'
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, f, -1, 64)}
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(x)}
	case string:
		return str(x)
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			n.Content = append(n.Content, node(e))
		}
		return n
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.Content = append(n.Content, str(k), node(x[k]))
		}
		return n
	}
	return str(kongdb.Pretty(v))
}
