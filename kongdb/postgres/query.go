package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// QueryResult is the result of one statement of connector:query.
type QueryResult struct {
	// Columns are the result column names in order (SELECT / RETURNING).
	Columns []string
	// Rows are the result rows, column name -> value (value model: float64
	// numbers, []any arrays, map[string]any JSON, schema.Null for NULL).
	Rows []map[string]any
	// AffectedRows is set for INSERT/UPDATE/DELETE without RETURNING.
	AffectedRows int64
	// Command is the command tag ("SELECT 1", "CREATE TABLE", ...).
	Command string
	// HasRows tells a row-returning statement (even with 0 rows) from DML/DDL.
	HasRows bool
	// Results holds one result per statement when the SQL had several
	// (Kong's num_queries > 1); the fields above then describe the last one.
	Results []*QueryResult
}

// IsDML reports a statement without a result set whose command counts rows
// (INSERT/UPDATE/DELETE/MERGE ...): pgmoon answers { affected_rows = n } for
// those and true for DDL and utility statements.
func (r *QueryResult) IsDML() bool {
	if r.HasRows {
		return false
	}
	for _, p := range []string{"INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "SELECT"} {
		if strings.HasPrefix(r.Command, p) {
			return true
		}
	}
	return false
}

// NumQueries is how many statements ran (Kong's 4th return value).
func (r *QueryResult) NumQueries() int {
	if len(r.Results) > 0 {
		return len(r.Results)
	}
	return 1
}

// QueryError is a failed connector:query, with pgmoon's text ("ERROR: ...").
type QueryError struct {
	Msg     string
	Partial *QueryResult // results of the statements that ran before the failure
	Err     error
}

func (e *QueryError) Error() string { return e.Msg }
func (e *QueryError) Unwrap() error { return e.Err }

// SQLState returns the SQLSTATE of the error, if the server sent one.
func (e *QueryError) SQLState() string {
	var pe *pgconn.PgError
	if errors.As(e.Err, &pe) {
		return pe.Code
	}
	return ""
}

// Query runs raw SQL (possibly several statements) with the simple protocol,
// like connector:query. Values come back in the value model.
func (c *Connector) Query(ctx context.Context, sql string) (*QueryResult, error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	release, err := c.acquire(ctx)
	if err != nil {
		return nil, &QueryError{Msg: err.Error(), Err: err}
	}
	defer release()
	if tx := c.txFrom(ctx); tx != nil {
		return execMulti(ctx, tx.Conn().PgConn(), tx.Conn().TypeMap(), sql)
	}
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return nil, &QueryError{Msg: pgmoonError(err), Err: err}
	}
	defer conn.Release()
	return execMulti(ctx, conn.Conn().PgConn(), conn.Conn().TypeMap(), sql)
}

func execMulti(ctx context.Context, pc *pgconn.PgConn, tm *pgtype.Map, sql string) (*QueryResult, error) {
	mrr := pc.Exec(ctx, sql)
	var results []*QueryResult
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		fds := rr.FieldDescriptions()
		res := &QueryResult{HasRows: len(fds) > 0}
		for _, fd := range fds {
			res.Columns = append(res.Columns, fd.Name)
		}
		for rr.NextRow() {
			vals := rr.Values()
			row := make(map[string]any, len(fds))
			for i, fd := range fds {
				row[fd.Name] = decodeText(tm, fd, vals[i])
			}
			res.Rows = append(res.Rows, row)
		}
		tag, err := rr.Close()
		if err != nil {
			_ = mrr.Close()
			return nil, &QueryError{Msg: pgmoonError(err), Partial: pack(results), Err: err}
		}
		res.Command = tag.String()
		if !res.HasRows {
			res.AffectedRows = tag.RowsAffected()
		}
		results = append(results, res)
	}
	if err := mrr.Close(); err != nil {
		return nil, &QueryError{Msg: pgmoonError(err), Partial: pack(results), Err: err}
	}
	if len(results) == 0 {
		return &QueryResult{}, nil
	}
	return pack(results), nil
}

func pack(results []*QueryResult) *QueryResult {
	if len(results) == 0 {
		return nil
	}
	if len(results) == 1 {
		return results[0]
	}
	last := *results[len(results)-1]
	last.Results = results
	return &last
}

// pgmoonDecoded are the type OIDs pgmoon turns into Lua values (booleans,
// numbers, JSON, and arrays of those and of strings); every other type,
// timestamps and UUIDs included, reaches Lua as the server's text.
var pgmoonDecoded = map[uint32]bool{
	16: true, 20: true, 21: true, 23: true, 26: true, 700: true, 701: true, 1700: true, // bool, ints, oid, floats, numeric
	114: true, 3802: true, // json, jsonb
	1000: true, 1005: true, 1007: true, 1016: true, 1021: true, 1022: true, 1231: true, // arrays of bool and numbers
	1009: true, 1015: true, 1002: true, 1014: true, 2951: true, // arrays of text, varchar, char, bpchar, uuid
	199: true, 3807: true, // arrays of json, jsonb
}

// decodeText decodes one text-format value by its type OID, as pgmoon does.
func decodeText(tm *pgtype.Map, fd pgconn.FieldDescription, raw []byte) any {
	if raw == nil {
		return decodeValue(nil)
	}
	if !pgmoonDecoded[fd.DataTypeOID] {
		return string(raw)
	}
	if t, ok := tm.TypeForOID(fd.DataTypeOID); ok {
		v, err := t.Codec.DecodeValue(tm, fd.DataTypeOID, fd.Format, raw)
		if err == nil {
			return decodeValue(v)
		}
	}
	return string(raw)
}

// EscapeLiteral quotes a value as an SQL literal the way pgmoon does: nil
// and Null as NULL, numbers bare, booleans TRUE/FALSE, strings quoted with
// ” doubling.
func EscapeLiteral(v any) string {
	switch t := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if t {
			return "TRUE"
		}
		return "FALSE"
	case float64:
		return formatNumber(t)
	case int:
		return formatNumber(float64(t))
	case int64:
		return formatNumber(float64(t))
	case string:
		return "'" + escapeLiteralBody(t) + "'"
	}
	if isNull(v) {
		return "NULL"
	}
	return "'" + escapeLiteralBody(toString(v)) + "'"
}

func escapeLiteralBody(s string) string { return strings.ReplaceAll(s, "'", "''") }

// EscapeIdentifier quotes a name with "" doubling (pgmoon escape_identifier).
func EscapeIdentifier(name string) string { return quoteIdent(name) }

// EscapeLiteral and EscapeIdentifier as connector methods.
func (c *Connector) EscapeLiteral(v any) string       { return EscapeLiteral(v) }
func (c *Connector) EscapeIdentifier(s string) string { return EscapeIdentifier(s) }
