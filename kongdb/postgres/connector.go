// Package postgres is Kong's PostgreSQL strategy over pgx: a Connector (pool,
// raw queries, schema_meta, locks) and one kongdb.Strategy per schema, with
// Kong's table layout (kong/db/strategies/postgres). Values are always bound
// as parameters. It must not depend on gopher-lua.
package postgres

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// MinVersion is Kong's minimum PostgreSQL version (constants.DATABASE.POSTGRES.MIN).
const MinVersion = "9.5"

// Connector is Kong's postgres connector: a pgx pool plus the per-schema
// strategies it has built.
type Connector struct {
	cfg    Config
	pool   *pgxpool.Pool
	schema string // resolved pg_schema

	versionNum        int
	majorVersion      float64
	majorMinorVersion string

	sem chan struct{} // pg_max_concurrent_queries; nil = unlimited

	mu        sync.Mutex
	schemas   map[string]*schema.Schema // by name, for foreign key PKs
	ttlTables []ttlTable
	defaultWs string
	stopClean chan struct{}
	cleanDone chan struct{}
	closeOnce sync.Once
	ro        *Connector // read replica (pg_ro_*), nil if none
	nodeLocks nodeLocks
	errs      kongdb.Errors
	wsBox     atomic.Pointer[any] // the last workspace id bound, boxed (boxWS)
}

// boxWS is ws as a query argument: the box of the last one is kept, so
// the reads of one workspace (nearly all of them) box it once.
func (c *Connector) boxWS(ws string) any {
	if b := c.wsBox.Load(); b != nil {
		if s, _ := (*b).(string); s == ws {
			return *b
		}
	}
	b := any(ws)
	c.wsBox.Store(&b)
	return b
}

var _ kongdb.Connector = (*Connector)(nil)

// Open connects, sets each connection's search_path and time zone (UTC),
// and checks the server version (>= 9.5, Kong's message otherwise).
func Open(ctx context.Context, cfg Config) (*Connector, error) {
	pc, err := pgxpool.ParseConfig(cfg.ConnString())
	if err != nil {
		return nil, fmt.Errorf("[PostgreSQL error] %w", err)
	}
	for k, v := range cfg.RuntimeParams {
		pc.ConnConfig.RuntimeParams[k] = v
	}
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if cfg.Schema != "" {
		pc.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
	}
	// pg_timeout bounds each statement on the server side: cheaper than a
	// context deadline per query (a timer and a context per call, and
	// pgx's context watcher; an earlier measurement, when pgx watched with
	// a goroutine, was about +100 µs per lookup).
	if cfg.Timeout > 0 {
		pc.ConnConfig.RuntimeParams["statement_timeout"] = strconv.Itoa(int(cfg.Timeout / time.Millisecond))
	}
	pc.ConnConfig.DialFunc = dialer(cfg).DialContext
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("[PostgreSQL error] %w", err)
	}
	c := &Connector{cfg: cfg, pool: pool, schemas: map[string]*schema.Schema{},
		errs: kongdb.Errors{Strategy: "postgres"}}
	if cfg.MaxConcurrentQueries > 0 {
		c.sem = make(chan struct{}, cfg.MaxConcurrentQueries)
	}
	if err := c.init(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if cfg.ReadOnly != nil {
		ro := *cfg.ReadOnly
		ro.ReadOnly = nil
		ro.TTLCleanupInterval = -1
		if ro.Schema == "" {
			ro.Schema = c.schema
		}
		rc, err := Open(ctx, ro)
		if err != nil {
			pool.Close()
			return nil, err
		}
		c.ro = rc
	}
	if cfg.TTLCleanupInterval > 0 {
		c.stopClean = make(chan struct{})
		c.cleanDone = make(chan struct{})
		go c.cleanupLoop(cfg.TTLCleanupInterval)
	}
	return c, nil
}

// init reads the server version and the current schema (connector:init).
func (c *Connector) init(ctx context.Context) error {
	ctx, cancel := c.timeout(ctx)
	defer cancel()
	var verStr, cur string
	err := c.pool.QueryRow(ctx, "SELECT current_setting('server_version_num'), COALESCE(CURRENT_SCHEMA, 'public')").Scan(&verStr, &cur)
	if err != nil {
		return fmt.Errorf("[PostgreSQL error] failed to retrieve PostgreSQL server_version_num: %w", dbError(err))
	}
	ver, err := strconv.Atoi(verStr)
	if err != nil {
		return fmt.Errorf("[PostgreSQL error] failed to retrieve PostgreSQL server_version_num: %s", verStr)
	}
	c.versionNum = ver
	c.majorVersion, c.majorMinorVersion = versionOf(ver)
	if err := checkVersion(ver); err != nil {
		return err
	}
	c.schema = c.cfg.Schema
	if c.schema == "" {
		c.schema = cur
	}
	return nil
}

// Name is Kong's kong.db.strategy.
func (c *Connector) Name() string { return "postgres" }

// Pool exposes the pgx pool (benchmarks, the events poller).
func (c *Connector) Pool() *pgxpool.Pool { return c.pool }

// Config returns the configuration the connector was opened with.
func (c *Connector) Config() Config { return c.cfg }

// Schema is the resolved database schema (pg_schema or CURRENT_SCHEMA).
func (c *Connector) Schema() string { return c.schema }

// MajorVersion and MajorMinorVersion mirror connector.major_version and
// connector.major_minor_version.
func (c *Connector) MajorVersion() float64     { return c.majorVersion }
func (c *Connector) MajorMinorVersion() string { return c.majorMinorVersion }

// Infos is connector:infos().
type Infos struct {
	Strategy   string `json:"strategy"`
	DBName     string `json:"db_name"`
	DBSchema   string `json:"db_schema"`
	DBDesc     string `json:"db_desc"`
	DBVer      string `json:"db_ver"`
	DBReadonly bool   `json:"db_readonly"`
}

// Infos returns { strategy = "PostgreSQL", db_name, db_schema, db_desc, db_ver }.
func (c *Connector) Infos() Infos {
	ver := "unknown"
	if c.majorMinorVersion != "" {
		ver = c.majorMinorVersion
		if i := nthDot(ver, 2); i > 0 {
			ver = ver[:i]
		}
	}
	return Infos{Strategy: "PostgreSQL", DBName: c.cfg.Database, DBSchema: c.schema, DBDesc: "database", DBVer: ver}
}

func nthDot(s string, n int) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			n--
			if n == 0 {
				return i
			}
		}
	}
	return -1
}

// Close stops the cleanup timer and closes the pool.
func (c *Connector) Close() error {
	c.closeOnce.Do(func() {
		if c.stopClean != nil {
			close(c.stopClean)
			<-c.cleanDone
		}
		c.pool.Close()
		if c.ro != nil {
			_ = c.ro.Close()
		}
	})
	return nil
}

// dialer bounds the connect (pg_timeout, as Kong's socket timeout) and
// turns TCP keepalive on with short probes: a peer that vanished (a
// failover, a partition) is noticed within about 30 s even on a
// connection blocked in a read, where statement_timeout, enforced by the
// server, cannot help.
//
// On Linux, TCP_USER_TIMEOUT (30 s) also drops a connection whose sent data
// stays unacknowledged: a client-side deadline on every connection that
// costs nothing per query.
func dialer(cfg Config) *net.Dialer {
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3,
	}, Control: userTimeout(30 * time.Second)}
	if cfg.Timeout > 0 {
		d.Timeout = cfg.Timeout
	}
	return d
}

// timeout gives a control-path call (schema_meta, locks, cleanup) a
// client-side deadline of pg_timeout plus a second, unless ctx has one: the
// server's statement_timeout covers a slow query, this covers a server
// that stopped answering. The request path does not take it (a deadline
// per call costs a timer and a context; pgx v5.12 watches a cancellable
// context with context.AfterFunc, 4 allocations, no goroutine — see
// DESIGN.md); keepalive (dialer) bounds its dead connections.
func (c *Connector) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.cfg.Timeout <= 0 {
		return ctx, func() {}
	}
	if _, has := ctx.Deadline(); has {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.cfg.Timeout+time.Second)
}

// acquire takes a pg_max_concurrent_queries slot.
func (c *Connector) acquire(ctx context.Context) (func(), error) {
	if c.sem == nil {
		return func() {}, nil
	}
	t := time.NewTimer(c.cfg.SemaphoreTimeout)
	defer t.Stop()
	select {
	case c.sem <- struct{}{}:
		return func() { <-c.sem }, nil
	case <-t.C:
		return nil, fmt.Errorf("error acquiring query semaphore: timeout")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// NewStrategy builds the per-schema strategy and remembers the schema (for
// foreign-key column names and the TTL cleanup).
func (c *Connector) NewStrategy(s *schema.Schema) (kongdb.Strategy, error) {
	c.mu.Lock()
	c.schemas[s.Name] = s
	c.mu.Unlock()
	if c.cfg.AutoCreateTables {
		if err := c.ensureTable(s); err != nil {
			return nil, err
		}
	}
	st, err := newStrategy(c, s)
	if err != nil {
		return nil, err
	}
	if s.TTL {
		c.mu.Lock()
		c.ttlTables = append(c.ttlTables, ttlTable{table: s.Table(), column: "ttl"})
		c.mu.Unlock()
	}
	return st, nil
}

// RegisterSchema makes a schema known for foreign key resolution without
// building a strategy (a referenced entity that has no strategy yet).
func (c *Connector) RegisterSchema(s *schema.Schema) {
	c.mu.Lock()
	c.schemas[s.Name] = s
	c.mu.Unlock()
}

func (c *Connector) lookupSchema(name string) *schema.Schema {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.schemas[name]
}

// defaultWorkspace returns the id of the "default" workspace ("" if none).
func (c *Connector) defaultWorkspace(ctx context.Context) (string, error) {
	c.mu.Lock()
	ws := c.defaultWs
	c.mu.Unlock()
	if ws != "" {
		return ws, nil
	}
	var id string
	err := c.pool.QueryRow(ctx, `SELECT "id"::text FROM "workspaces" WHERE "name" = 'default'`).Scan(&id)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.defaultWs = id
	c.mu.Unlock()
	return id, nil
}

// versionOf turns server_version_num into Kong's major_version and
// major_minor_version (9.6.24 -> 9.6, "9.6.24"; 150020 -> 15, "15.20").
func versionOf(ver int) (float64, string) {
	major := ver / 10000
	if major < 10 {
		mv, _ := strconv.ParseFloat(fmt.Sprintf("%d.%d", major, ver/100%100), 64)
		return mv, fmt.Sprintf("%d.%d.%d", major, ver/100%100, ver%100)
	}
	return float64(major), fmt.Sprintf("%d.%d", major, ver%100)
}

// checkVersion is Kong's DB:check_version_compat for postgres.
func checkVersion(ver int) error {
	if ver < 90500 {
		_, mm := versionOf(ver)
		return fmt.Errorf("Kong requires postgres %s or greater (currently using %s)", MinVersion, mm)
	}
	return nil
}

// forgetDefaultWorkspace drops the cached default workspace id (after a
// truncate or reset re-creates it).
func (c *Connector) forgetDefaultWorkspace() {
	c.mu.Lock()
	c.defaultWs = ""
	c.mu.Unlock()
}
