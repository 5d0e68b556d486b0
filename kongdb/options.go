package kongdb

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb/schema"
)

// options validates the caller's options table (Kong's
// validate_options_value; nil = none given) and resolves it into Options:
// pagination merged over the DAO defaults, workspace name resolved to an id,
// the current workspace filled in.
func (d *DAO) options(ctx context.Context, raw map[string]any) (*Options, error) {
	o := &Options{PageSize: d.PageSize, MaxPageSize: d.MaxPageSize}
	var errs map[string]any
	fail := func(k string, v any) {
		if errs == nil {
			errs = map[string]any{}
		}
		errs[k] = v
	}
	s := d.Schema
	wsGiven := false
	if raw != nil {
		switch w := raw["workspace"].(type) {
		case nil:
		case bool:
			if w {
				fail("workspace", "must be a string or null")
			}
		case string:
			wsGiven = true
			if _, err := uuid.Parse(w); err == nil && len(w) == 36 {
				o.Workspace = w
			} else if wsd := d.db.DAO("workspaces"); wsd != nil {
				// Kong ignores the lookup's error: no row is "invalid workspace".
				row, _ := wsd.SelectBy(ctx, "name", w, nil)
				if id, ok := row["id"].(string); ok {
					o.Workspace = id
				} else {
					fail("workspace", "invalid workspace")
				}
			} else {
				fail("workspace", "invalid workspace")
			}
		case schema.NullType:
			o.GlobalWorkspace = true
		default:
			fail("workspace", "must be a string or null")
		}

		if v, ok := raw["show_ws_id"]; ok && truthy(v) {
			if b, isBool := v.(bool); !isBool {
				fail("show_ws_id", "must be a boolean")
			} else {
				o.ShowWsID = b
			}
		}

		if v, ok := raw["ttl"]; ok && v != nil {
			if s.TTL {
				f, isNum := toFloat(v)
				if !isNum || f != math.Floor(f) || f < 0 || f > MaxTTL {
					fail("ttl", fmt.Sprintf("must be an integer between 0 and %d", MaxTTL))
				} else {
					n := int(f)
					o.TTL = &n
				}
			} else {
				fail("ttl", fmt.Sprintf("cannot be used with '%s'", s.Name))
			}
		}

		if tags, ok := raw["tags"]; ok && tags != nil {
			if s.Field("tags") != nil {
				d.tagOptions(raw, tags, o, fail)
			} else {
				fail("tags", fmt.Sprintf("cannot be used with '%s'", s.Name))
			}
		}

		if p, ok := raw["pagination"]; ok && p != nil {
			d.paginationOptions(p, o, fail)
		}

		for _, name := range []string{"transform", "export", "skip_ttl"} {
			if v, ok := raw[name]; ok && v != nil {
				b, isBool := v.(bool)
				if !isBool {
					fail(name, "must be a boolean")
					continue
				}
				switch name {
				case "transform":
					o.NoTransform = !b
				case "export":
					o.Export = b
				case "skip_ttl":
					o.SkipTTL = b
				}
			}
		}
		o.Nulls = truthy(raw["nulls"])
		o.NoBroadcastCrud = truthy(raw["no_broadcast_crud_event"])
	}
	if errs != nil {
		return nil, d.Errors.InvalidOptions(errs)
	}
	if s.Workspaceable && !wsGiven {
		ws, err := d.db.currentWorkspace(ctx)
		if err != nil {
			return nil, err
		}
		o.Workspace = ws
	}
	return o, nil
}

func (d *DAO) tagOptions(raw map[string]any, tags any, o *Options, fail func(string, any)) {
	list, ok := tags.([]any)
	if !ok {
		if m, isMap := tags.(map[string]any); isMap && len(m) == 0 {
			list, ok = []any{}, true
		}
	}
	cond := raw["tags_cond"]
	if !ok {
		if cond == nil {
			fail("tags", "invalid filter syntax")
		} else {
			fail("tags", "must be a table")
		}
		return
	}
	if len(list) > 5 {
		fail("tags", "cannot query more than 5 tags")
		return
	}
	var b strings.Builder
	strs := make([]string, 0, len(list))
	for _, t := range list {
		var s string
		switch x := t.(type) {
		case string:
			s = x
		case float64:
			s = FormatNumber(x)
		}
		b.WriteString(s)
		strs = append(strs, s)
	}
	if !validTagChars(b.String()) {
		fail("tags", "must only contain printable ascii (except `,` and `/`) or valid utf-8")
		return
	}
	c, _ := cond.(string)
	if len(list) > 1 && c != "and" && c != "or" {
		fail("tags_cond", "must be a either 'and' or 'or' when more than one tag is specified")
		return
	}
	o.Tags = strs
	o.TagsCond = c
}

// validTagChars is the pattern ^[ \033-\043\045\046\048-\126\128-\244]+$.
func validTagChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ', c >= 33 && c <= 43, c == 45, c == 46, c >= 48 && c <= 126, c >= 128 && c <= 244:
		default:
			return false
		}
	}
	return true
}

func (d *DAO) paginationOptions(p any, o *Options, fail func(string, any)) {
	m, ok := p.(map[string]any)
	if !ok {
		fail("pagination", "must be a table")
		return
	}
	var perr map[string]any
	max := d.MaxPageSize
	if v, ok := m["max_page_size"]; ok && v != nil {
		f, isNum := toFloat(v)
		switch {
		case !isNum:
			perr = map[string]any{"max_page_size": "must be a number"}
		case f != math.Floor(f) || f < 1:
			perr = map[string]any{"max_page_size": "must be an integer greater than 0"}
		default:
			max = int(f)
		}
	}
	o.MaxPageSize = max
	if v, ok := m["page_size"]; ok && v != nil {
		f, isNum := toFloat(v)
		msg := ""
		switch {
		case !isNum:
			msg = "must be a number"
		case f != math.Floor(f) || f < 1 || f > float64(max):
			msg = fmt.Sprintf("must be an integer between 1 and %d", max)
		default:
			o.PageSize = int(f)
		}
		if msg != "" {
			if perr == nil {
				perr = map[string]any{}
			}
			perr["page_size"] = msg
		}
	}
	if perr != nil {
		fail("pagination", perr)
	}
}

// pageSize validates the size argument of page/each (validate_size_type
// and validate_size_value) against the resolved options.
func (d *DAO) pageSize(size any, raw map[string]any) (int, error) {
	max := d.MaxPageSize
	def := d.PageSize
	if p, ok := raw["pagination"].(map[string]any); ok {
		if f, ok := toFloat(p["max_page_size"]); ok {
			max = int(f)
		}
		if f, ok := toFloat(p["page_size"]); ok && f == math.Floor(f) && f >= 1 {
			def = int(f)
		}
	}
	if size == nil {
		return def, nil
	}
	f, ok := toFloat(size)
	if !ok {
		return 0, argErr("size must be a number")
	}
	if f != math.Floor(f) || f < 1 || f > float64(max) {
		return 0, d.Errors.InvalidSize(fmt.Sprintf("size must be an integer between 1 and %d", max))
	}
	return int(f), nil
}

func truthy(v any) bool {
	if v == nil {
		return false
	}
	if b, ok := v.(bool); ok {
		return b
	}
	return true
}

// PageSizeOf validates a page size as page does (a number, an integer
// between 1 and the maximum; nil: the default), for a listing built
// outside the strategy (the Admin API's /tags).
func (d *DAO) PageSizeOf(size any) (int, error) { return d.pageSize(size, nil) }
