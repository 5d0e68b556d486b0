package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// MetaRow is one schema_meta row (key = 'schema_meta').
type MetaRow struct {
	Subsystem    string
	LastExecuted string
	Executed     []string
	Pending      []string
}

// SchemaMigrations is connector:schema_migrations(): nil rows and
// bootstrapped = false when the schema_meta table does not exist.
func (c *Connector) SchemaMigrations(ctx context.Context) (rows []MetaRow, bootstrapped bool, err error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	var exists bool
	err = c.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.tables
		WHERE table_schema = $1 AND table_name = 'schema_meta')`, c.schema).Scan(&exists)
	if err != nil {
		return nil, false, dbError(err)
	}
	if !exists {
		return nil, false, nil
	}
	r, err := c.pool.Query(ctx, `SELECT subsystem, COALESCE(last_executed, ''), COALESCE(executed, '{}'), COALESCE(pending, '{}')
		FROM schema_meta WHERE key = 'schema_meta'`)
	if err != nil {
		return nil, true, dbError(err)
	}
	defer r.Close()
	for r.Next() {
		var m MetaRow
		if err := r.Scan(&m.Subsystem, &m.LastExecuted, &m.Executed, &m.Pending); err != nil {
			return nil, true, err
		}
		rows = append(rows, m)
	}
	if err := r.Err(); err != nil {
		return nil, true, dbError(err)
	}
	return rows, true, nil
}

// SchemaBootstrap is connector:schema_bootstrap(): the schema (if it can),
// schema_meta and locks.
func (c *Connector) SchemaBootstrap(ctx context.Context) error {
	s := quoteIdent(c.schema)
	// One transaction under an advisory lock: two nodes bootstrapping at
	// once would otherwise race on CREATE TABLE IF NOT EXISTS.
	_, err := c.Query(ctx, "BEGIN;\nSELECT pg_advisory_xact_lock(7349218734);\nDO $$\nBEGIN\n"+
		"  CREATE SCHEMA IF NOT EXISTS "+s+" AUTHORIZATION CURRENT_USER;\n"+
		"  GRANT ALL ON SCHEMA "+s+" TO CURRENT_USER;\nEXCEPTION WHEN insufficient_privilege THEN\nEND;\n$$;\n"+
		`CREATE TABLE IF NOT EXISTS schema_meta (
  key            TEXT,
  subsystem      TEXT,
  last_executed  TEXT,
  executed       TEXT[],
  pending        TEXT[],
  PRIMARY KEY (key, subsystem)
);
`+locksSQL+"\nCOMMIT;")
	if err != nil {
		_, _ = c.Query(ctx, "ROLLBACK;")
	}
	return err
}

// SchemaReset drops and re-creates the schema (connector:schema_reset);
// when that is not allowed, it drops every table of the schema instead.
func (c *Connector) SchemaReset(ctx context.Context) error {
	s := quoteIdent(c.schema)
	_, err := c.Query(ctx, "BEGIN;\nDROP SCHEMA IF EXISTS "+s+" CASCADE;\nCREATE SCHEMA IF NOT EXISTS "+s+
		" AUTHORIZATION CURRENT_USER;\nGRANT ALL ON SCHEMA "+s+" TO CURRENT_USER;\nCOMMIT;")
	var qe *QueryError
	if errors.As(err, &qe) && qe.SQLState() == "42501" {
		_, _ = c.Query(ctx, "ROLLBACK;")
		err = c.dropAllTables(ctx)
	}
	// Prepared statements on pooled connections refer to dropped tables.
	c.pool.Reset()
	c.forgetDefaultWorkspace()
	return err
}

func (c *Connector) dropAllTables(ctx context.Context) error {
	res, err := c.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = "+
		EscapeLiteral(c.schema)+" AND table_type = 'BASE TABLE';")
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("BEGIN;\n")
	for _, r := range res.Rows {
		fmt.Fprintf(&b, "DROP TABLE IF EXISTS %s CASCADE;\n", quoteIdent(fmt.Sprint(r["table_name"])))
	}
	b.WriteString("COMMIT;")
	_, err = c.Query(ctx, b.String())
	return err
}

// TruncateAll truncates every table of the schema but schema_migrations,
// schema_meta, locks and parameters (connector:truncate).
func (c *Connector) TruncateAll(ctx context.Context) error {
	res, err := c.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = "+
		EscapeLiteral(c.schema)+" AND table_type = 'BASE TABLE';")
	if err != nil {
		return err
	}
	var names []string
	for _, r := range res.Rows {
		n := fmt.Sprint(r["table_name"])
		switch n {
		case "schema_migrations", "schema_meta", "locks", "parameters":
			continue
		}
		names = append(names, quoteIdent(n))
	}
	if len(names) == 0 {
		return nil
	}
	_, err = c.Query(ctx, "TRUNCATE "+strings.Join(names, ", ")+" RESTART IDENTITY CASCADE;")
	c.forgetDefaultWorkspace()
	return err
}

// TruncateTable is connector:truncate_table(name).
func (c *Connector) TruncateTable(ctx context.Context, name string) error {
	_, err := c.Query(ctx, "TRUNCATE "+quoteIdent(name)+" RESTART IDENTITY CASCADE;")
	c.forgetDefaultWorkspace()
	return err
}

// RunUpMigration runs a migration's `up` SQL in one transaction
// (connector:run_up_migration) and, in that same transaction, records it:
// with state "" as "up done, up_f to run" (see UpDone), else as state
// (StateExecuted or StatePending, for a migration with no up_f). Kong
// commits `up` and only records the migration after up_f, so a failing
// up_f (or a crash in between) makes the next run apply `up` twice; here
// the next run resumes at up_f. On error the transaction is rolled back
// and the error carries the SQL error text and SQLSTATE.
func (c *Connector) RunUpMigration(ctx context.Context, subsystem, name, sql, state string) error {
	sql = strings.TrimRight(sql, " \t\r\n")
	if !strings.HasSuffix(sql, ";") {
		sql += ";"
	}
	record := ""
	if state == "" {
		record = "INSERT INTO schema_meta (key, subsystem) VALUES (" + EscapeLiteral(upDoneKey(name)) + ", " +
			EscapeLiteral(subsystem) + ") ON CONFLICT (key, subsystem) DO NOTHING;"
	} else {
		q, err := recordSQL(state)
		if err != nil {
			return err
		}
		record = strings.NewReplacer("$1", EscapeLiteral(subsystem), "$2", EscapeLiteral(name)).Replace(q)
	}
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return &QueryError{Msg: pgmoonError(err), Err: err}
	}
	defer conn.Release()
	pc := conn.Conn().PgConn()
	_, err = execMulti(ctx, pc, conn.Conn().TypeMap(), "BEGIN;\n"+sql+"\n"+record+"\nCOMMIT;\n")
	if err != nil {
		_, _ = execMulti(context.Background(), pc, conn.Conn().TypeMap(), "ROLLBACK;")
		return err
	}
	return nil
}

// upDoneKey is the schema_meta key of the marker RunUpMigration writes for
// a migration whose `up` committed but whose up_f has not completed. Kong
// reads only key = 'schema_meta' rows, so the marker is invisible to it.
func upDoneKey(name string) string { return "luahost:up_done:" + name }

const upDonePrefix = "luahost:up_done:"

// UpDone returns, per subsystem, the migrations whose `up` is committed
// and whose up_f has not completed (a failed or interrupted run).
func (c *Connector) UpDone(ctx context.Context) (map[string]map[string]bool, error) {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	r, err := c.pool.Query(ctx, `SELECT subsystem, substr(key, $1) FROM schema_meta WHERE left(key, $2) = $3`,
		len(upDonePrefix)+1, len(upDonePrefix), upDonePrefix)
	if err != nil {
		return nil, &QueryError{Msg: pgmoonError(err), Err: err}
	}
	defer r.Close()
	out := map[string]map[string]bool{}
	for r.Next() {
		var sub, name string
		if err := r.Scan(&sub, &name); err != nil {
			return nil, err
		}
		if out[sub] == nil {
			out[sub] = map[string]bool{}
		}
		out[sub][name] = true
	}
	if err := r.Err(); err != nil {
		return nil, &QueryError{Msg: pgmoonError(err), Err: err}
	}
	return out, nil
}

// Migration states for RecordMigration.
const (
	StateExecuted = "executed"
	StatePending  = "pending"
	StateTeardown = "teardown"
)

// recordSQL is the statement recording a migration in state; $1 is the
// subsystem, $2 the migration. It also clears the migration's up-done
// marker, in the same statement.
func recordSQL(state string) (string, error) {
	const clear = `WITH cleared AS (DELETE FROM schema_meta WHERE key = '` + upDonePrefix + `' || $2::TEXT AND subsystem = $1::TEXT)
`
	switch state {
	case StateExecuted:
		return clear + `INSERT INTO schema_meta (key, subsystem, last_executed, executed)
     VALUES ('schema_meta', $1, $2, ARRAY[$2]::TEXT[])
ON CONFLICT (key, subsystem) DO UPDATE
        SET last_executed = EXCLUDED.last_executed,
            executed = ARRAY_APPEND(COALESCE(schema_meta.executed, ARRAY[]::TEXT[]), $2::TEXT);`, nil
	case StatePending:
		return clear + `INSERT INTO schema_meta (key, subsystem, pending)
     VALUES ('schema_meta', $1, ARRAY[$2]::TEXT[])
ON CONFLICT (key, subsystem) DO UPDATE
        SET pending = ARRAY_APPEND(schema_meta.pending, $2::TEXT);`, nil
	case StateTeardown:
		return `INSERT INTO schema_meta (key, subsystem, last_executed, executed)
     VALUES ('schema_meta', $1, $2, ARRAY[$2]::TEXT[])
ON CONFLICT (key, subsystem) DO UPDATE
        SET last_executed = EXCLUDED.last_executed,
            executed = ARRAY_APPEND(COALESCE(schema_meta.executed, ARRAY[]::TEXT[]), $2::TEXT),
            pending  = ARRAY_REMOVE(COALESCE(schema_meta.pending,  ARRAY[]::TEXT[]), $2::TEXT);`, nil
	}
	return "", fmt.Errorf("unknown 'state' argument: %s", state)
}

// RecordMigration is connector:record_migration(subsystem, name, state).
func (c *Connector) RecordMigration(ctx context.Context, subsystem, name, state string) error {
	sql, err := recordSQL(state)
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	if _, err := c.pool.Exec(ctx, sql, pgx.QueryExecModeExec, subsystem, name); err != nil {
		return &QueryError{Msg: pgmoonError(err), Err: err}
	}
	return nil
}

// SQLState extracts the SQLSTATE of a driver error ("" if none).
func SQLState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// ExistingTables returns which of names exist as tables in the schema.
func (c *Connector) ExistingTables(ctx context.Context, names ...string) ([]string, error) {
	r, err := c.pool.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY table_name`, c.schema, names)
	if err != nil {
		return nil, dbError(err)
	}
	defer r.Close()
	var out []string
	for r.Next() {
		var n string
		if err := r.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, r.Err()
}
