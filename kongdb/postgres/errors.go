package postgres

import (
	"errors"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// pgmoonError renders a driver error the way pgmoon does ("ERROR: <msg>"),
// which is what Kong's connector hands to Lua.
// dbError keeps a driver error for callers (errors.As a *pgconn.PgError
// for its SQLSTATE, errors.Is context.DeadlineExceeded) under pgmoon's
// message text.
func dbError(err error) error { return &QueryError{Msg: pgmoonError(err), Err: err} }

func pgmoonError(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		s := pe.Severity
		if s == "" {
			s = "ERROR"
		}
		msg := s + ": " + pe.Message
		if pe.Detail != "" {
			msg += "\n" + pe.Detail
		}
		return msg
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

var wsIDInDetail = regexp.MustCompile(`ws_id\)=\((?:[^,)]*, )*([0-9a-fA-F-]{36})\)`)
var referencedFrom = regexp.MustCompile(`is still referenced from table "([^"]+)"`)

// toError maps a driver error to Kong's error (§4.7) by SQLSTATE. entity is
// the row being written (for the violated values), pk its primary key.
func (s *strategy) toError(err error, entity, pk kongdb.Row) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return s.c.errs.DatabaseError(err.Error(), err)
	}
	text := pe.Message + "\n" + pe.Detail
	switch pe.Code {
	case "23505": // unique_violation
		if s.l.cacheKey && strings.Contains(pe.ConstraintName+text, "cache_key") {
			t := map[string]any{}
			for _, f := range s.s.CacheKey {
				if v, ok := entity[f]; ok {
					t[f] = v
				}
			}
			e := s.c.errs.UniqueViolation(t)
			e.Err = err
			return e
		}
		// Kong looks for the field name in the message, which names the
		// constraint ("<table>_ws_id_<field>_unique"), not in the detail
		// (which holds the values).
		for _, f := range s.s.Fields {
			if f.Unique && strings.Contains(pe.Message, f.Name) {
				v, ok := entity[f.Name]
				if !ok {
					v = schema.Null
				}
				e := s.c.errs.UniqueViolation(map[string]any{f.Name: v})
				e.Err = err
				return e
			}
		}
		e := s.c.errs.PrimaryKeyViolation(s.pkTable(pk, entity))
		e.Err = err
		return e
	case "23502": // not_null_violation
		e := s.c.errs.PrimaryKeyViolation(s.pkTable(pk, entity))
		e.Err = err
		return e
	case "23503": // foreign_key_violation
		if strings.Contains(pe.Detail, `is not present in table "workspaces"`) ||
			(s.s.Name == "workspaces" && strings.Contains(pe.Detail, "is still referenced")) {
			if s.s.Name == "workspaces" {
				child := pe.TableName
				if m := referencedFrom.FindStringSubmatch(text); m != nil {
					child = m[1]
				}
				e := s.c.errs.ForeignKeyViolationRestricted(s.s.Name, child)
				e.Err = err
				return e
			}
			ws := ""
			if m := wsIDInDetail.FindStringSubmatch(pe.Detail); m != nil {
				ws = m[1]
			}
			e := s.c.errs.InvalidWorkspace(ws)
			e.Err = err
			return e
		}
		if strings.Contains(text, "is not present in table") {
			for _, f := range s.s.Fields {
				if f.Type != schema.TypeForeign {
					continue
				}
				ref := s.c.lookupSchema(f.Reference)
				table := f.Reference
				if ref != nil {
					table = ref.Table()
				}
				if strings.Contains(text, `"`+table+`"`) {
					fk, _ := entity[f.Name].(map[string]any)
					e := s.c.errs.ForeignKeyViolationInvalidReference(fk, f.Name, f.Reference)
					e.Err = err
					return e
				}
			}
		}
		if m := referencedFrom.FindStringSubmatch(text); m != nil {
			e := s.c.errs.ForeignKeyViolationRestricted(s.s.Name, m[1])
			e.Err = err
			return e
		}
	}
	return s.c.errs.DatabaseError(pgmoonError(err), err)
}

// pkTable is the primary key as Kong prints it in PRIMARY_KEY_VIOLATION.
func (s *strategy) pkTable(pk, entity kongdb.Row) map[string]any {
	t := map[string]any{}
	for _, f := range s.s.PrimaryKey {
		if v, ok := pk[f]; ok {
			t[f] = v
		} else if v, ok := entity[f]; ok {
			t[f] = v
		}
	}
	return t
}
