package admin

import (
	"sort"
	"strconv"
	"strings"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// targetRoutes are Kong's kong/api/routes/targets.lua, snis.lua and
// upstreams.lua: targets live under their upstream only (/targets and
// /snis/:snis/certificate are disabled), and /upstreams/:upstreams/targets/
// :targets finds a target by id or by its address within the upstream.
func (s *Server) targetRoutes() {
	ups, tgs := s.db.DAO("upstreams"), s.db.DAO("targets")
	if s.db.DAO("snis") != nil {
		s.rt.remove("/snis/:snis/certificate")
	}
	if ups == nil || tgs == nil {
		return
	}
	for _, p := range []string{"/targets", "/targets/:targets", "/targets/:targets/upstream"} {
		s.rt.remove(p)
	}
	// targets/all: every target of the upstream, as stored
	if list, ok := s.rt.all["/upstreams/:upstreams/targets"]; ok {
		s.rt.add("/upstreams/:upstreams/targets/all").methods["GET"] = allTargets(list.methods["GET"])
	}
	if list, ok := s.rt.all["/upstreams/:upstreams/targets"]; ok {
		list.methods["GET"] = s.upstreamTargets(ups, tgs)
	}
	rt := s.rt.add("/upstreams/:upstreams/targets/:targets")
	rt.methods = map[string]HandlerFunc{}
	rt.methods["GET"] = s.targetEndpoint(ups, tgs, func(r *Request, t kongdb.Row) { r.JSON(200, t) })
	update := s.targetEndpoint(ups, tgs, func(r *Request, t kongdb.Row) {
		args := r.postArgs(tgs.Schema)
		row, err := tgs.Update(r.Context(), tgs.ExtractPK(t), args, writeOptions(tgs.Schema, args))
		s.answerEntity(r, row, err)
	})
	rt.methods["PATCH"], rt.methods["PUT"] = update, update
	s.healthRoutes(ups, tgs)
	rt.methods["DELETE"] = s.targetEndpoint(ups, tgs, func(r *Request, t kongdb.Row) {
		if _, err := tgs.Delete(r.Context(), tgs.ExtractPK(t), baseOptions()); err != nil {
			r.Error(err)
			return
		}
		r.Exit(204, nil)
	})
}

// targetEndpoint is Kong's target_endpoint: the upstream, then the target
// by id or by address among the upstream's targets; 404 unless the target
// belongs to the upstream.
func (s *Server) targetEndpoint(ups, tgs *kongdb.DAO, cb func(r *Request, target kongdb.Row)) HandlerFunc {
	return func(r *Request) {
		u, ok := s.selectOr404(r, ups, r.Params["upstreams"])
		if !ok {
			return
		}
		key := r.Params["targets"]
		var target kongdb.Row
		if isUUID(key) {
			t, err := tgs.Select(r.Context(), pkOf(tgs.Schema, key), baseOptions())
			if err != nil {
				r.Error(err)
				return
			}
			target = t
		} else {
			it, err := tgs.EachFor(r.Context(), "upstream", ups.ExtractPK(u), nil, baseOptions())
			if err != nil {
				r.Error(err)
				return
			}
			for t, err := range it {
				if err != nil {
					r.Error(err)
					return
				}
				if t["target"] == key {
					target = t
					break
				}
			}
		}
		if target == nil {
			r.Exit(404, nil)
			return
		}
		if ref := foreignOf(target, "upstream"); ref == nil || ref["id"] != u["id"] {
			r.Exit(404, nil)
			return
		}
		cb(r, target)
	}
}

// upstreamTargets is GET /upstreams/:upstreams/targets, Kong's
// page_for_upstream: the newest entry of each target address first
// (created_at, then id), paged by a numeric offset.
func (s *Server) upstreamTargets(ups, tgs *kongdb.DAO) HandlerFunc {
	return func(r *Request) {
		_, page, next, ok := s.activeTargets(r, ups, tgs)
		if !ok {
			return
		}
		body := map[string]any{"data": page, "next": schema.Null}
		if next != "" {
			body["offset"] = next
			body["next"] = "/upstreams/" + r.Params["upstreams"] + "/targets?offset=" + next
		}
		r.JSON(200, body)
	}
}

// activeTargets reads the upstream and one page of its targets, Kong's
// page_for_upstream; false when it answered (404, an error).
func (s *Server) activeTargets(r *Request, ups, tgs *kongdb.DAO) (kongdb.Row, []any, string, bool) {
	u, ok := s.selectOr404(r, ups, r.Params["upstreams"])
	if !ok {
		return nil, nil, "", false
	}
	sz, err := pageSize(tgs, r.Query)
	if err != nil {
		r.Error(err)
		return nil, nil, "", false
	}
	it, err := tgs.EachFor(r.Context(), "upstream", ups.ExtractPK(u), nil, baseOptions())
	if err != nil {
		r.Error(err)
		return nil, nil, "", false
	}
	var all []kongdb.Row
	for t, err := range it {
		if err != nil {
			r.Error(err)
			return nil, nil, "", false
		}
		all = append(all, t)
	}
	sort.SliceStable(all, func(i, j int) bool {
		ci, _ := all[i]["created_at"].(float64)
		cj, _ := all[j]["created_at"].(float64)
		if ci != cj {
			return ci < cj
		}
		ii, _ := all[i]["id"].(string)
		ij, _ := all[j]["id"].(string)
		return ii < ij
	})
	seen := map[any]bool{}
	var active []any
	for i := len(all) - 1; i >= 0; i-- {
		if !seen[all[i]["target"]] {
			seen[all[i]["target"]] = true
			active = append(active, all[i])
		}
	}
	size := tgs.PageSize
	if f, ok := sz.(float64); ok {
		size = int(f)
	}
	size = min(size, tgs.MaxPageSize)
	offset := 0
	if v, ok := firstString(r.Query["offset"]); ok {
		offset, _ = strconv.Atoi(v)
	}
	page := []any{}
	for i := offset; i < offset+size && i >= 0 && i < len(active); i++ {
		page = append(page, active[i])
	}
	next := ""
	if offset+size >= 0 && offset+size < len(active) {
		next = strconv.Itoa(offset + size)
	}
	return u, page, next, true
}

// allTargets is GET /upstreams/:upstreams/targets/all (Kong's
// page_for_upstream_raw): the generic page of the upstream's targets, its
// next link under /targets/all.
func allTargets(list HandlerFunc) HandlerFunc {
	return func(r *Request) {
		list(r)
		body, st, ok := answer(r)
		if !ok {
			return
		}
		if next, isStr := body["next"].(string); isStr {
			body["next"] = strings.Replace(next, "/targets?offset=", "/targets/all?offset=", 1)
			r.JSON(st, body)
		}
	}
}
