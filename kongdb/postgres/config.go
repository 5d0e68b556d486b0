package postgres

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/luahost/luahost/conf"
)

// Config holds Kong's pg_* settings (kong.conf names in the comments).
type Config struct {
	Host     string // pg_host
	Port     int    // pg_port
	User     string // pg_user
	Password string // pg_password
	Database string // pg_database
	// Schema is pg_schema; "" resolves to the server's CURRENT_SCHEMA
	// (normally "public"), as Kong does.
	Schema    string
	Timeout   time.Duration // pg_timeout (ms in kong.conf)
	SSL       bool          // pg_ssl
	SSLVerify bool          // pg_ssl_verify
	// MaxConcurrentQueries is pg_max_concurrent_queries (0 = unlimited);
	// SemaphoreTimeout (pg_semaphore_timeout) bounds the wait for a slot.
	MaxConcurrentQueries int
	SemaphoreTimeout     time.Duration
	// PoolSize is pg_pool_size (0 = pgxpool's default).
	PoolSize int
	// KeepaliveTimeout is pg_keepalive_timeout: how long an idle pooled
	// connection is kept (0 = pgxpool's default).
	KeepaliveTimeout time.Duration
	// TTLCleanupInterval is how often expired rows are deleted (Kong's
	// _debug_pg_ttl_cleanup_interval, 300 s); negative disables it.
	TTLCleanupInterval time.Duration
	// AutoCreateTables makes NewStrategy create a missing table from the
	// schema (CreateTableSQL). Not a Kong setting: tests and development.
	AutoCreateTables bool
	// RuntimeParams are extra session settings for every connection
	// (e.g. synchronous_commit = off for throwaway test databases).
	RuntimeParams map[string]string
	// ReadOnly is the read replica (Kong's pg_ro_* settings), nil when
	// pg_ro_host is unset. Strategy reads go there (Kong's "read"
	// operation) unless the context asks for the primary (WithPrimary).
	ReadOnly *Config
	// Logger receives what fails in the background (TTL cleanup); nil =
	// slog.Default().
	Logger *slog.Logger
}

// DefaultConfig is Kong's defaults.
func DefaultConfig() Config {
	return Config{
		Host: "127.0.0.1", Port: 5432, User: "kong", Database: "kong",
		Timeout: 5 * time.Second, SemaphoreTimeout: 60 * time.Second,
		TTLCleanupInterval: 300 * time.Second,
	}
}

// FromConf reads the pg_* properties of c.
func FromConf(c *conf.Config) Config {
	cfg := DefaultConfig()
	if v := c.Get("pg_host"); v != "" {
		cfg.Host = v
	}
	cfg.Port = c.Int("pg_port", cfg.Port)
	if v := c.Get("pg_user"); v != "" {
		cfg.User = v
	}
	cfg.Password = c.Get("pg_password")
	if v := c.Get("pg_database"); v != "" {
		cfg.Database = v
	}
	cfg.Schema = c.Get("pg_schema")
	cfg.Timeout = time.Duration(c.Int("pg_timeout", 5000)) * time.Millisecond
	cfg.SSL = c.Bool("pg_ssl")
	cfg.SSLVerify = c.Bool("pg_ssl_verify")
	cfg.MaxConcurrentQueries = c.Int("pg_max_concurrent_queries", 0)
	cfg.SemaphoreTimeout = time.Duration(c.Int("pg_semaphore_timeout", 60000)) * time.Millisecond
	cfg.PoolSize = c.Int("pg_pool_size", 0)
	cfg.KeepaliveTimeout = time.Duration(c.Int("pg_keepalive_timeout", 0)) * time.Millisecond
	if ro := c.Get("pg_ro_host"); ro != "" {
		r := cfg
		r.Host = ro
		r.Port = c.Int("pg_ro_port", cfg.Port)
		str := func(k string, def string) string {
			if v := c.Get(k); v != "" {
				return v
			}
			return def
		}
		r.User = str("pg_ro_user", cfg.User)
		r.Password = str("pg_ro_password", cfg.Password)
		r.Database = str("pg_ro_database", cfg.Database)
		r.Schema = str("pg_ro_schema", cfg.Schema)
		r.Timeout = time.Duration(c.Int("pg_ro_timeout", int(cfg.Timeout/time.Millisecond))) * time.Millisecond
		if c.Has("pg_ro_ssl") && c.Get("pg_ro_ssl") != "" {
			r.SSL = c.Bool("pg_ro_ssl")
		}
		if c.Has("pg_ro_ssl_verify") && c.Get("pg_ro_ssl_verify") != "" {
			r.SSLVerify = c.Bool("pg_ro_ssl_verify")
		}
		r.MaxConcurrentQueries = c.Int("pg_ro_max_concurrent_queries", cfg.MaxConcurrentQueries)
		r.SemaphoreTimeout = time.Duration(c.Int("pg_ro_semaphore_timeout", int(cfg.SemaphoreTimeout/time.Millisecond))) * time.Millisecond
		r.ReadOnly = nil
		r.TTLCleanupInterval = -1
		cfg.ReadOnly = &r
	}
	return cfg
}

// ConnString renders the config as a libpq URL for pgx.
func (c Config) ConnString() string {
	u := url.URL{Scheme: "postgres", Host: c.Host + ":" + strconv.Itoa(c.Port), Path: "/" + c.Database}
	if c.Password != "" {
		u.User = url.UserPassword(c.User, c.Password)
	} else {
		u.User = url.User(c.User)
	}
	q := url.Values{}
	switch {
	case c.SSL && c.SSLVerify:
		q.Set("sslmode", "verify-full")
	case c.SSL:
		q.Set("sslmode", "require")
	default:
		q.Set("sslmode", "disable")
	}
	if c.Timeout > 0 {
		secs := int((c.Timeout + time.Second - 1) / time.Second)
		q.Set("connect_timeout", strconv.Itoa(secs))
	}
	if c.PoolSize > 0 {
		q.Set("pool_max_conns", strconv.Itoa(c.PoolSize))
	}
	if c.KeepaliveTimeout > 0 {
		q.Set("pool_max_conn_idle_time", c.KeepaliveTimeout.String())
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (c Config) String() string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, strings.TrimPrefix(c.Database, "/"))
}
