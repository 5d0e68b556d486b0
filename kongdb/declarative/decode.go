package declarative

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/luahost/luahost/kongdb/schema"
)

// Limits on what Decode accepts: a declarative file is written by an
// operator, but POST /config takes it from the network.
const (
	// MaxSize is the largest file Decode reads (bytes).
	MaxSize = 64 << 20
	// MaxDepth is the deepest nesting of maps and lists.
	MaxDepth = 64
	// MaxNodes bounds the values of a file.
	MaxNodes = 8 << 20
	// MaxAliasNodes bounds the values YAML aliases expand to (a "billion
	// laughs" file stops here).
	MaxAliasNodes = 1 << 16
)

// document is a decoded file: its value in kongdb's value model (float64
// numbers, schema.Null for null) and the line of each map in it, keyed by
// the map's identity (lineOf).
type document struct {
	root  map[string]any
	lines map[uintptr]int
}

// decodeState carries the limits through one decode.
type decodeState struct {
	nodes   int
	aliased int // values visited under an alias
	inAlias int
	lines   map[uintptr]int
}

// Decode reads a YAML or JSON declarative file (JSON is read as YAML, of
// which it is a subset) into kongdb's value model. filename only names the
// format in errors, as Kong's unserialize does; it may be "".
func Decode(data []byte, filename string) (map[string]any, error) {
	doc, err := decode(data, filename)
	if err != nil {
		return nil, err
	}
	return doc.root, nil
}

func decode(data []byte, filename string) (*document, error) {
	if filename != "" && !knownExtension(filename) {
		return nil, fmt.Errorf("unknown file type: %s. (Accepted types: json, yaml)", filename)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("failed parsing declarative configuration: file is larger than %d bytes", MaxSize)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("failed parsing declarative configuration: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if n.Kind == 0 {
		return nil, errors.New("failed parsing declarative configuration: expected an object")
	}
	st := &decodeState{lines: map[uintptr]int{}}
	v, err := st.value(&n, 0)
	if err != nil {
		return nil, fmt.Errorf("failed parsing declarative configuration: %w", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("failed parsing declarative configuration: expected an object")
	}
	return &document{root: root, lines: st.lines}, nil
}

func knownExtension(name string) bool {
	for _, ext := range []string{".yml", ".yaml", ".json"} {
		if strings.HasSuffix(strings.ToLower(name), ext) {
			return true
		}
	}
	return false
}

func (st *decodeState) value(n *yaml.Node, depth int) (any, error) {
	st.nodes++
	if st.nodes > MaxNodes {
		return nil, fmt.Errorf("more than %d values (line %d)", MaxNodes, n.Line)
	}
	if st.inAlias > 0 {
		st.aliased++
		if st.aliased > MaxAliasNodes {
			return nil, fmt.Errorf("aliases expand to more than %d values (line %d)", MaxAliasNodes, n.Line)
		}
	}
	if depth > MaxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels (line %d)", MaxDepth, n.Line)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, errors.New("expected an object")
		}
		return st.value(n.Content[0], depth)
	case yaml.AliasNode:
		st.inAlias++
		defer func() { st.inAlias-- }()
		return st.value(n.Alias, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind == yaml.ScalarNode && kn.ShortTag() == "!!merge" {
				// <<: *anchor merges the anchor's keys (explicit keys win)
				mv, err := st.value(vn, depth+1)
				if err != nil {
					return nil, err
				}
				if mm, ok := mv.(map[string]any); ok {
					for k, e := range mm {
						if _, set := m[k]; !set {
							m[k] = e
						}
					}
				}
				continue
			}
			if kn.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: keys must be strings", kn.Line)
			}
			v, err := st.value(vn, depth+1)
			if err != nil {
				return nil, err
			}
			m[kn.Value] = v
		}
		st.lines[reflect.ValueOf(m).Pointer()] = n.Line
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := st.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return schema.Null, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			// out of int64: read it as a float, as Lua would
			f, ferr := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if ferr != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			return f, nil
		}
		return float64(i), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return f, nil
	}
	// strings, timestamps and binary stay text
	return n.Value, nil
}

// lineOf is the line where map m starts in the file (0 = unknown).
func (d *document) lineOf(m map[string]any) int {
	if d == nil || m == nil {
		return 0
	}
	return d.lines[reflect.ValueOf(m).Pointer()]
}
