package admin

import (
	"encoding/json"
	"sort"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// certificateRoutes give certificates Kong's `snis` attribute
// (kong/db/dao/certificates.lua, kong/api/routes/certificates.lua): not a
// column but the names of the certificate's snis rows. POST, PUT and
// PATCH take a list (or one name) and create or replace the rows; every
// answer carries the sorted list. /certificates/:certificates also takes
// an SNI name for the certificate it belongs to (a PUT to an unknown name
// creates a certificate with that name among its snis).
func (s *Server) certificateRoutes() {
	certs, snis := s.db.DAO("certificates"), s.db.DAO("snis")
	if certs == nil || snis == nil {
		return
	}
	elem := *snis.Schema.Field("name")
	elem.Name, elem.Unique, elem.Required, elem.RequiredSet = "", false, false, false
	check := &schema.Schema{Name: "certificates", Fields: []*schema.Field{
		{Name: "snis", Type: schema.TypeArray, Elements: &elem},
	}}
	check.Index()
	cs := &certSNIs{s: s, certs: certs, snis: snis, check: check}
	s.certs = cs
	if col, ok := s.rt.all["/certificates"]; ok {
		col.methods["POST"] = cs.write(col.methods["POST"])
		col.methods["GET"] = cs.read(col.methods["GET"], true)
	}
	if ent, ok := s.rt.all["/certificates/:certificates"]; ok {
		ent.methods["GET"] = cs.byName(cs.read(ent.methods["GET"], false))
		ent.methods["PUT"] = cs.byName(cs.write(ent.methods["PUT"]))
		ent.methods["PATCH"] = cs.byName(cs.write(ent.methods["PATCH"]))
		ent.methods["DELETE"] = cs.byName(ent.methods["DELETE"])
	}
	// the certificate's snis, nested, take an SNI name too (Kong's
	// prepare_params is their before filter as well)
	for _, p := range []string{"/certificates/:certificates/snis", "/certificates/:certificates/snis/:snis"} {
		if nested, ok := s.rt.all[p]; ok {
			for m, h := range nested.methods {
				nested.methods[m] = cs.byName(h)
			}
		}
	}
}

type certSNIs struct {
	s           *Server
	certs, snis *kongdb.DAO
	check       *schema.Schema
}

// byName is Kong's prepare_params: a key that is not a UUID is an SNI
// name, standing for its certificate ("SNI not found" unless a PUT, which
// gets a new id and keeps the name for the snis).
func (cs *certSNIs) byName(next HandlerFunc) HandlerFunc {
	return func(r *Request) {
		key := r.Params["certificates"]
		if isUUID(key) {
			next(r)
			return
		}
		row, err := cs.snis.SelectBy(r.Context(), "name", key, baseOptions())
		if err != nil {
			r.Error(err)
			return
		}
		switch {
		case row != nil:
			ref, _ := row["certificate"].(map[string]any)
			r.Params["certificates"], _ = ref["id"].(string)
		case r.Method != "PUT":
			r.Exit(404, map[string]any{"message": "SNI not found"})
			return
		default:
			r.Params["certificates"] = uuid.NewString()
		}
		r.Params["sni_name"] = key
		next(r)
	}
}

// names is Kong's prepare_args and parse_name_list: the body's snis (a
// list, or one name; a PUT without any clears them), the SNI the URL
// named added on PUT; sorted, a duplicate a schema violation. present is
// false when the request leaves the snis as they are.
func (cs *certSNIs) names(r *Request) (list []string, present bool, err error) {
	v, ok := r.Body["snis"]
	if r.Body != nil {
		delete(r.Body, "snis")
	}
	name := r.Params["sni_name"]
	delete(r.Params, "sni_name")
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			s, isStr := e.(string)
			if !isStr {
				// not a name: the schema says what it is
				return nil, true, cs.invalid(r, v)
			}
			list = append(list, s)
		}
		present = true
	case string:
		list, present = []string{x}, true
	case map[string]any:
		if len(x) == 0 { // an empty JSON object is Lua's empty table
			present = true
			break
		}
		return nil, true, cs.invalid(r, v)
	case nil:
		if ok { // unreachable for JSON null (schema.Null), kept for forms
			present = true
		}
	default:
		if schema.IsNull(v) {
			present = true
			break
		}
		return nil, true, cs.invalid(r, v)
	}
	if name != "" && r.Method == "PUT" {
		found := false
		for _, n := range list {
			found = found || n == name
		}
		if !found {
			list, present = append(list, name), true
		}
	}
	if !present && r.Method == "PUT" {
		present = true // PUT replaces: no snis means none
	}
	if !present {
		return nil, false, nil
	}
	seen := map[string]bool{}
	for _, n := range list {
		if seen[n] {
			return nil, true, cs.s.db.Errors.SchemaViolation(map[string]any{"snis": n + " is duplicated"})
		}
		seen[n] = true
	}
	arr := make([]any, len(list))
	for i, n := range list {
		arr[i] = n
	}
	if err := cs.invalid(r, arr); err != nil {
		return nil, true, err
	}
	sort.Strings(list)
	return list, true, nil
}

// invalid validates a snis value as Kong's certificates schema does (an
// array of wildcard hosts).
func (cs *certSNIs) invalid(r *Request, v any) error {
	errs, err := cs.check.Validate(r.Context(), map[string]any{"snis": v}, false)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return cs.s.db.Errors.SchemaViolation(errs)
	}
	return nil
}

// checkNew is the snis DAO's check_list_is_new: a name another
// certificate has is a schema violation naming that certificate.
func (cs *certSNIs) checkNew(r *Request, list []string, certID string) error {
	for _, n := range list {
		row, err := cs.snis.SelectBy(r.Context(), "name", n, baseOptions())
		if err != nil {
			return err
		}
		if row == nil {
			continue
		}
		ref, _ := row["certificate"].(map[string]any)
		if id, _ := ref["id"].(string); id != certID {
			return cs.s.db.Errors.SchemaViolation(map[string]any{
				"snis": n + " already associated with existing certificate '" + id + "'"})
		}
	}
	return nil
}

// list is the snis DAO's list_for_certificate: the names, sorted.
func (cs *certSNIs) list(r *Request, certID string) ([]any, error) {
	it, err := cs.snis.EachFor(r.Context(), "certificate", map[string]any{"id": certID}, nil, baseOptions())
	if err != nil {
		return nil, err
	}
	var names []string
	for row, err := range it {
		if err != nil {
			return nil, err
		}
		if n, ok := row["name"].(string); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]any, len(names))
	for i, n := range names {
		out[i] = n
	}
	return out, nil
}

// update is the snis DAO's update_list: the new names inserted, then the
// ones dropped deleted.
func (cs *certSNIs) update(r *Request, certID string, list []string) error {
	cur, err := cs.list(r, certID)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range list {
		want[n] = true
	}
	have := map[string]bool{}
	for _, n := range cur {
		have[n.(string)] = true
	}
	for _, n := range list {
		if have[n] {
			continue
		}
		if _, err := cs.snis.Insert(r.Context(), map[string]any{"name": n,
			"certificate": map[string]any{"id": certID}}, baseOptions()); err != nil {
			return err
		}
	}
	for _, n := range cur {
		if !want[n.(string)] {
			if _, err := cs.snis.DeleteBy(r.Context(), "name", n, baseOptions()); err != nil {
				return err
			}
		}
	}
	return nil
}

// answer reads the JSON next wrote (status 200 or 201), or false.
func answer(r *Request) (map[string]any, int, bool) {
	st := r.Ctx.Response.StatusCode()
	if st != 200 && st != 201 {
		return nil, st, false
	}
	var body map[string]any
	if err := json.Unmarshal(r.Ctx.Response.Body(), &body); err != nil {
		return nil, st, false
	}
	return body, st, true
}

func (cs *certSNIs) write(next HandlerFunc) HandlerFunc {
	return func(r *Request) {
		list, present, err := cs.names(r)
		if err != nil {
			r.Error(err)
			return
		}
		certID := ""
		if r.Method != "POST" {
			certID = r.Params["certificates"]
		}
		if present {
			if err := cs.checkNew(r, list, certID); err != nil {
				r.Error(err)
				return
			}
		}
		next(r)
		body, st, ok := answer(r)
		if !ok {
			return
		}
		id, _ := body["id"].(string)
		var names []any
		if present {
			if err := cs.update(r, id, list); err != nil {
				r.Error(err)
				return
			}
			names = make([]any, len(list))
			for i, n := range list {
				names[i] = n
			}
		} else if names, err = cs.list(r, id); err != nil {
			r.Error(err)
			return
		}
		body["snis"] = names
		r.JSON(st, body)
	}
}

func (cs *certSNIs) read(next HandlerFunc, collection bool) HandlerFunc {
	return func(r *Request) {
		next(r)
		body, st, ok := answer(r)
		if !ok {
			return
		}
		rows := []any{body}
		if collection {
			rows, _ = body["data"].([]any)
		}
		for _, row := range rows {
			c, _ := row.(map[string]any)
			id, _ := c["id"].(string)
			names, err := cs.list(r, id)
			if err != nil {
				r.Error(err)
				return
			}
			c["snis"] = names
		}
		r.JSON(st, body)
	}
}
