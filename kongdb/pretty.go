package kongdb

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/luahost/luahost/kongdb/schema"
)

var luaIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var luaKeywords = map[string]bool{"and": true, "break": true, "do": true, "else": true, "elseif": true,
	"end": true, "false": true, "for": true, "function": true, "if": true, "in": true, "local": true,
	"nil": true, "not": true, "or": true, "repeat": true, "return": true, "then": true, "true": true,
	"until": true, "while": true, "goto": true}

// Pretty writes v as Penlight's pretty.write(v, "") does: one line, array
// part first, then keys sorted, identifiers bare (`{b=1,key="foo"}`).
// Kong's error messages embed this form.
func Pretty(v any) string {
	var b strings.Builder
	prettyWrite(&b, v, "", "")
	return b.String()
}

// PrettyMultiline is pretty.write(v) with its default two-space indent.
func PrettyMultiline(v any) string {
	var b strings.Builder
	prettyWrite(&b, v, "  ", "")
	return b.String()
}

func prettyScalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return FormatNumber(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case schema.NullType:
		return `"userdata: NULL"`
	}
	return strconv.Quote(fmt.Sprint(v))
}

// FormatNumber prints a number as Lua's tostring does (%.14g).
func FormatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	if math.IsInf(f, 1) {
		return "inf"
	}
	if math.IsInf(f, -1) {
		return "-inf"
	}
	if math.IsNaN(f) {
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

func prettyWrite(b *strings.Builder, v any, indent, cur string) {
	var items []string
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			items = append(items, prettyItem(e, indent, cur))
		}
	case []string:
		for _, e := range t {
			items = append(items, strconv.Quote(e))
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			key := k
			if !luaIdent.MatchString(k) || luaKeywords[k] {
				key = "[" + strconv.Quote(k) + "]"
			}
			set := "=" // Penlight: "=" on one line, " = " when indenting
			if indent != "" {
				set = " = "
			}
			items = append(items, key+set+prettyItem(t[k], indent, cur))
		}
	default:
		b.WriteString(prettyScalar(v))
		return
	}
	if indent == "" {
		b.WriteString("{" + strings.Join(items, ",") + "}")
		return
	}
	if len(items) == 0 {
		b.WriteString("{}")
		return
	}
	inner := cur + indent
	b.WriteString("{\n")
	for i, it := range items {
		b.WriteString(inner + it)
		if i < len(items)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString(cur + "}")
}

func prettyItem(v any, indent, cur string) string {
	switch v.(type) {
	case []any, []string, map[string]any:
		var b strings.Builder
		prettyWrite(&b, v, indent, cur+indent)
		return b.String()
	}
	return prettyScalar(v)
}
