package admin

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// The endpoints Kong generates for an entity (kong/api/endpoints.lua):
//
//	/<name>                                  GET, POST
//	/<name>/:<name>                          GET, PUT, PATCH, DELETE
//	/<name>/:<name>/<fk>                     the referenced entity
//	/<foreign>/:<foreign>/<nested>           GET, POST
//	/<foreign>/:<foreign>/<nested>/:<name>   GET, PUT, PATCH, DELETE
//
// <name> is admin_api_name or the schema's name, <nested>
// admin_api_nested_name, else the same.

// APIName is the collection path segment of an entity.
func APIName(s *schema.Schema) string {
	if s.AdminAPIName != "" {
		return s.AdminAPIName
	}
	return s.Name
}

// NestedName is the path segment of an entity nested under a parent.
func NestedName(s *schema.Schema) string {
	if s.AdminAPINestedName != "" {
		return s.AdminAPINestedName
	}
	return APIName(s)
}

// generate adds the generated endpoints of an entity.
func (s *Server) generate(d *kongdb.DAO) {
	sc := d.Schema
	name := APIName(sc)
	col := s.rt.add("/" + name)
	col.methods["GET"] = s.getCollection(d, nil, "")
	col.methods["POST"] = s.postCollection(d, nil, "")
	ent := s.rt.add("/" + name + "/:" + sc.Name)
	ent.methods["GET"] = s.getEntity(d)
	ent.methods["PUT"] = s.putEntity(d)
	ent.methods["PATCH"] = s.patchEntity(d)
	ent.methods["DELETE"] = s.deleteEntity(d)
	for _, f := range sc.Fields {
		if f.Type != schema.TypeForeign || f.RefSchema == nil {
			continue
		}
		parent := s.db.DAO(f.RefSchema.Name)
		if parent == nil {
			continue
		}
		// /routes/:routes/service
		fe := s.rt.add("/" + name + "/:" + sc.Name + "/" + f.Name)
		fe.methods["GET"] = s.getForeignEntity(d, parent, f.Name)
		fe.methods["PUT"] = s.putForeignEntity(d, parent, f.Name)
		fe.methods["PATCH"] = s.patchForeignEntity(d, parent, f.Name)
		fe.methods["DELETE"] = s.deleteForeignEntity(d, parent, f.Name)
		// /services/:services/routes
		pname := APIName(parent.Schema)
		nc := s.rt.add("/" + pname + "/:" + parent.Schema.Name + "/" + NestedName(sc))
		nc.methods["GET"] = s.getCollection(d, parent, f.Name)
		nc.methods["POST"] = s.postCollection(d, parent, f.Name)
		// /services/:services/routes/:routes
		ne := s.rt.add("/" + pname + "/:" + parent.Schema.Name + "/" + NestedName(sc) + "/:" + sc.Name)
		ne.methods["GET"] = s.getNested(parent, d, f.Name)
		ne.methods["PUT"] = s.putNested(parent, d, f.Name)
		ne.methods["PATCH"] = s.patchNested(parent, d, f.Name)
		ne.methods["DELETE"] = s.deleteNested(parent, d, f.Name)
	}
}

// baseOptions is Kong's extract_options: nulls, the Admin API's page
// sizes (100, at most 1000); the workspace is the DAO's default.
func baseOptions() map[string]any {
	return map[string]any{
		"nulls":      true,
		"pagination": map[string]any{"page_size": float64(100), "max_page_size": float64(1000)},
	}
}

// writeOptions moves a ttl argument into the options (schema.ttl = true).
func writeOptions(sc *schema.Schema, args map[string]any) map[string]any {
	o := baseOptions()
	if sc.TTL {
		if v, ok := args["ttl"]; ok {
			o["ttl"] = v
			delete(args, "ttl")
		}
	}
	return o
}

// tagBytes is the printable ASCII but ',' and '/', plus non-ASCII bytes.
const tagBytes = `\x20-\x2B\x2D\x2E\x30-\x7E\x80-\xF4`

var (
	tagsAnd = regexp.MustCompile(`^([` + tagBytes + `]+(,|$))+$`)
	tagsOr  = regexp.MustCompile(`^([` + tagBytes + `]+(/|$))+$`)
)

func firstString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []any:
		if len(x) > 0 {
			s, ok := x[0].(string)
			return s, ok
		}
	}
	return "", false
}

// pageOptions is extract_options for "page": ?tags=a,b (and) or a/b (or).
func (s *Server) pageOptions(d *kongdb.DAO, q map[string]any) (map[string]any, error) {
	o := baseOptions()
	tv, ok := q["tags"]
	if !ok || d.Schema.Field("tags") == nil {
		return o, nil
	}
	tags, _ := firstString(tv)
	if tags == "" {
		return nil, d.Errors.InvalidOptions(map[string]any{"tags": "cannot be null"})
	}
	switch {
	case tagsAnd.MatchString(tags):
		o["tags_cond"] = "and"
		o["tags"] = strsToAny(strings.Split(tags, ","))
	case tagsOr.MatchString(tags):
		o["tags_cond"] = "or"
		o["tags"] = strsToAny(strings.Split(tags, "/"))
	default:
		o["tags"] = tags
	}
	return o, nil
}

func strsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// pageSize is get_page_size: ?size= must be a number.
func pageSize(d *kongdb.DAO, q map[string]any) (any, error) {
	v, ok := q["size"]
	if !ok {
		return nil, nil
	}
	str, _ := firstString(v)
	f, err := strconv.ParseFloat(strings.TrimSpace(str), 64)
	if err != nil {
		return nil, d.Errors.InvalidSize("size must be a number")
	}
	return f, nil
}

// isUUID is Kong's uuid.is_valid_uuid.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// selectKey selects an entity by the URL key: its primary key when the
// key is a UUID, else its endpoint_key's value (Kong's query_entity).
func selectKey(r *Request, d *kongdb.DAO, key string) (kongdb.Row, error) {
	sc := d.Schema
	if !isUUID(key) && sc.EndpointKey != "" {
		return d.SelectBy(r.Context(), sc.EndpointKey, inferValue(key, sc.Field(sc.EndpointKey)), baseOptions())
	}
	return d.Select(r.Context(), pkOf(sc, key), baseOptions())
}

func pkOf(sc *schema.Schema, key string) map[string]any {
	name := "id"
	if len(sc.PrimaryKey) == 1 {
		name = sc.PrimaryKey[0]
	}
	return map[string]any{name: key}
}

// byKey runs the _by_<endpoint_key> or the primary-key form of a write.
func byKey(d *kongdb.DAO, key string, byEK func(field string, v any) (kongdb.Row, error), byPK func(pk map[string]any) (kongdb.Row, error)) (kongdb.Row, error) {
	sc := d.Schema
	if !isUUID(key) && sc.EndpointKey != "" {
		return byEK(sc.EndpointKey, inferValue(key, sc.Field(sc.EndpointKey)))
	}
	return byPK(pkOf(sc, key))
}

func rowsToAny(rows []kongdb.Row) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out
}

// escapeURI is ngx.escape_uri (component): all but unreserved characters
// percent-encoded.
func escapeURI(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func (s *Server) getCollection(d *kongdb.DAO, parent *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		q := r.Query
		var parentPK map[string]any
		if parent != nil {
			p, err := selectKey(r, parent, r.Params[parent.Schema.Name])
			if err != nil {
				r.Error(err)
				return
			}
			if p == nil {
				r.Exit(404, nil)
				return
			}
			parentPK = parent.ExtractPK(p)
		}
		opts, err := s.pageOptions(d, q)
		if err != nil {
			r.Error(err)
			return
		}
		size, err := pageSize(d, q)
		if err != nil {
			r.Error(err)
			return
		}
		var offset any
		if v, ok := q["offset"]; ok {
			offset = v
		}
		var rows []kongdb.Row
		var next string
		if parent == nil {
			rows, next, err = d.Page(r.Context(), size, offset, opts)
		} else {
			rows, next, err = d.PageFor(r.Context(), fk, parentPK, size, offset, opts)
		}
		if err != nil {
			r.Error(err)
			return
		}
		body := map[string]any{"data": rowsToAny(rows), "next": schema.Null}
		if next != "" {
			body["offset"] = next
			if parent == nil {
				u := "/" + APIName(d.Schema) + "?offset=" + escapeURI(next)
				if t, ok := firstString(q["tags"]); ok {
					u += "&tags=" + escapeURI(t)
				}
				if sz, ok := firstString(q["size"]); ok {
					u += "&size=" + sz
				}
				body["next"] = u
			} else {
				body["next"] = "/" + APIName(parent.Schema) + "/" + r.Params[parent.Schema.Name] + "/" +
					NestedName(d.Schema) + "?offset=" + escapeURI(next)
			}
		}
		r.JSON(200, body)
	}
}

func (s *Server) postCollection(d *kongdb.DAO, parent *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		args := r.postArgs(d.Schema)
		if parent != nil {
			p, err := selectKey(r, parent, r.Params[parent.Schema.Name])
			if err != nil {
				r.Error(err)
				return
			}
			if p == nil {
				r.Exit(404, nil)
				return
			}
			args[fk] = parent.ExtractPK(p)
		}
		row, err := d.Insert(r.Context(), args, writeOptions(d.Schema, args))
		if err != nil {
			r.Error(err)
			return
		}
		r.JSON(201, row)
	}
}

func (s *Server) getEntity(d *kongdb.DAO) HandlerFunc {
	return func(r *Request) {
		row, err := selectKey(r, d, r.Params[d.Schema.Name])
		if err != nil {
			r.Error(err)
			return
		}
		if row == nil {
			r.Exit(404, nil)
			return
		}
		r.JSON(200, row)
	}
}

// pluginArgs re-infers a form PATCH of a plugin with its name, which the
// config's fields depend on (Kong's routes/plugins.lua patch_plugin).
func pluginArgs(r *Request, d *kongdb.DAO, key string, args map[string]any) (map[string]any, error) {
	if d.Schema.Name != "plugins" || r.IsJSON || r.Body == nil {
		return args, nil
	}
	if _, ok := args["name"]; !ok {
		p, err := selectKey(r, d, key)
		if err != nil || p == nil {
			return args, err
		}
		args = copyMap(r.Body)
		args["name"] = p["name"]
		args = Infer(args, d.Schema)
	}
	return args, nil
}

func (s *Server) putEntity(d *kongdb.DAO) HandlerFunc {
	return func(r *Request) {
		key := r.Params[d.Schema.Name]
		args := r.postArgs(d.Schema)
		opts := writeOptions(d.Schema, args)
		row, err := byKey(d, key,
			func(f string, v any) (kongdb.Row, error) { return d.UpsertBy(r.Context(), f, v, args, opts) },
			func(pk map[string]any) (kongdb.Row, error) { return d.Upsert(r.Context(), pk, args, opts) })
		s.answerEntity(r, row, err)
	}
}

func (s *Server) patchEntity(d *kongdb.DAO) HandlerFunc {
	return func(r *Request) {
		key := r.Params[d.Schema.Name]
		args, err := pluginArgs(r, d, key, r.postArgs(d.Schema))
		if err != nil {
			r.Error(err)
			return
		}
		opts := writeOptions(d.Schema, args)
		row, err := byKey(d, key,
			func(f string, v any) (kongdb.Row, error) { return d.UpdateBy(r.Context(), f, v, args, opts) },
			func(pk map[string]any) (kongdb.Row, error) { return d.Update(r.Context(), pk, args, opts) })
		s.answerEntity(r, row, err)
	}
}

func (s *Server) answerEntity(r *Request, row kongdb.Row, err error) {
	if err != nil {
		r.Error(err)
		return
	}
	if row == nil {
		r.Exit(404, nil)
		return
	}
	r.JSON(200, row)
}

func (s *Server) deleteEntity(d *kongdb.DAO) HandlerFunc {
	return func(r *Request) {
		key := r.Params[d.Schema.Name]
		sc := d.Schema
		var err error
		if !isUUID(key) && sc.EndpointKey != "" {
			_, err = d.DeleteBy(r.Context(), sc.EndpointKey, inferValue(key, sc.Field(sc.EndpointKey)), baseOptions())
		} else {
			_, err = d.Delete(r.Context(), pkOf(sc, key), baseOptions())
		}
		if err != nil {
			r.Error(err)
			return
		}
		r.Exit(204, nil)
	}
}

// foreignOf is the primary key an entity's foreign field holds, or nil.
func foreignOf(row kongdb.Row, fk string) map[string]any {
	m, _ := row[fk].(map[string]any)
	if len(m) == 0 {
		return nil
	}
	return m
}

// /routes/:routes/service: the entity a route references.
func (s *Server) getForeignEntity(d, parent *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		row, ok := s.selectOr404(r, d, r.Params[d.Schema.Name])
		if !ok {
			return
		}
		pk := foreignOf(row, fk)
		if pk == nil {
			r.Exit(404, nil)
			return
		}
		p, err := parent.Select(r.Context(), pk, baseOptions())
		s.answerEntity(r, p, err)
	}
}

func (s *Server) putForeignEntity(d, parent *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		row, ok := s.selectOr404(r, d, r.Params[d.Schema.Name])
		if !ok {
			return
		}
		pk := foreignOf(row, fk)
		associate := pk == nil
		if associate {
			pk = map[string]any{"id": uuid.NewString()}
		}
		args := r.postArgs(parent.Schema)
		p, err := parent.Upsert(r.Context(), pk, args, writeOptions(parent.Schema, args))
		if err != nil || p == nil {
			s.answerEntity(r, p, err)
			return
		}
		if associate {
			if _, err := d.Update(r.Context(), d.ExtractPK(row), map[string]any{fk: parent.ExtractPK(p)}, nil); err != nil {
				r.Error(err)
				return
			}
		}
		r.JSON(200, p)
	}
}

func (s *Server) patchForeignEntity(d, parent *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		row, ok := s.selectOr404(r, d, r.Params[d.Schema.Name])
		if !ok {
			return
		}
		pk := foreignOf(row, fk)
		if pk == nil {
			r.Exit(404, nil)
			return
		}
		args := r.postArgs(parent.Schema)
		p, err := parent.Update(r.Context(), pk, args, writeOptions(parent.Schema, args))
		s.answerEntity(r, p, err)
	}
}

func (s *Server) deleteForeignEntity(d, parent *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		row, ok := s.selectOr404(r, d, r.Params[d.Schema.Name])
		if !ok {
			return
		}
		if foreignOf(row, fk) == nil {
			r.Exit(404, nil)
			return
		}
		r.Exit(405, nil)
	}
}

func (s *Server) selectOr404(r *Request, d *kongdb.DAO, key string) (kongdb.Row, bool) {
	row, err := selectKey(r, d, key)
	if err != nil {
		r.Error(err)
		return nil, false
	}
	if row == nil {
		r.Exit(404, nil)
		return nil, false
	}
	return row, true
}

// childOf selects the child and checks it belongs to the parent.
func (s *Server) childOf(r *Request, parent, child *kongdb.DAO, fk string, parentRow kongdb.Row) (kongdb.Row, bool) {
	c, ok := s.selectOr404(r, child, r.Params[child.Schema.Name])
	if !ok {
		return nil, false
	}
	ref := foreignOf(c, fk)
	if ref == nil {
		r.Exit(404, nil)
		return nil, false
	}
	for k, v := range parent.ExtractPK(parentRow) {
		if ref[k] != v {
			r.Exit(404, nil)
			return nil, false
		}
	}
	return c, true
}

// /services/:services/routes/:routes
func (s *Server) getNested(parent, child *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		p, ok := s.selectOr404(r, parent, r.Params[parent.Schema.Name])
		if !ok {
			return
		}
		c, ok := s.childOf(r, parent, child, fk, p)
		if !ok {
			return
		}
		r.JSON(200, c)
	}
}

func (s *Server) putNested(parent, child *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		p, ok := s.selectOr404(r, parent, r.Params[parent.Schema.Name])
		if !ok {
			return
		}
		args := r.postArgs(child.Schema)
		args[fk] = parent.ExtractPK(p)
		opts := writeOptions(child.Schema, args)
		row, err := byKey(child, r.Params[child.Schema.Name],
			func(f string, v any) (kongdb.Row, error) { return child.UpsertBy(r.Context(), f, v, args, opts) },
			func(pk map[string]any) (kongdb.Row, error) { return child.Upsert(r.Context(), pk, args, opts) })
		s.answerEntity(r, row, err)
	}
}

func (s *Server) patchNested(parent, child *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		p, ok := s.selectOr404(r, parent, r.Params[parent.Schema.Name])
		if !ok {
			return
		}
		key := r.Params[child.Schema.Name]
		args, err := pluginArgs(r, child, key, r.postArgs(child.Schema))
		if err != nil {
			r.Error(err)
			return
		}
		if _, ok := args[fk]; !ok {
			args[fk] = parent.ExtractPK(p)
		}
		if _, ok := s.childOf(r, parent, child, fk, p); !ok {
			return
		}
		opts := writeOptions(child.Schema, args)
		row, err := byKey(child, key,
			func(f string, v any) (kongdb.Row, error) { return child.UpdateBy(r.Context(), f, v, args, opts) },
			func(pk map[string]any) (kongdb.Row, error) { return child.Update(r.Context(), pk, args, opts) })
		s.answerEntity(r, row, err)
	}
}

func (s *Server) deleteNested(parent, child *kongdb.DAO, fk string) HandlerFunc {
	return func(r *Request) {
		p, ok := s.selectOr404(r, parent, r.Params[parent.Schema.Name])
		if !ok {
			return
		}
		c, ok := s.childOf(r, parent, child, fk, p)
		if !ok {
			return
		}
		if _, err := child.Delete(r.Context(), child.ExtractPK(c), baseOptions()); err != nil {
			r.Error(err)
			return
		}
		r.Exit(204, nil)
	}
}
