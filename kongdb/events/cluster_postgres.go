package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what the postgres cluster events need to run statements: a
// *pgxpool.Pool (shared, safe for concurrent use) or a pgx.Tx.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// NewPostgres returns cluster events over the cluster_events table of
// Kong's schema (KONG-REFERENCE §5.6). db runs the inserts and polls and
// must be safe for concurrent use (a pgxpool.Pool). listen is the
// configuration of the dedicated connection that LISTENs when cfg.Notify is
// on (pgx's WaitForNotification needs a connection of its own); it is
// reconnected with backoff, and every reconnection triggers a poll.
func NewPostgres(ctx context.Context, db DB, listen *pgx.ConnConfig, cfg ClusterConfig) (*ClusterEvents, error) {
	if cfg.Notify && listen == nil {
		return nil, errors.New("cluster events: Notify needs a listen connection config")
	}
	st := &pgStore{db: db, listenCfg: listen, notify: cfg.Notify, channel: cfg.NotifyChannel}
	if st.channel == "" {
		st.channel = "luahost_cluster_events"
	}
	ce, err := newClusterEvents(ctx, st, cfg)
	if err != nil {
		return nil, err
	}
	st.log = ce.log
	return ce, nil
}

type pgStore struct {
	db        DB
	listenCfg *pgx.ConnConfig
	notify    bool
	channel   string
	log       *slog.Logger
}

// notifyInline is the largest data sent inside a notification; longer data
// is fetched by id (NOTIFY payloads stop at 8000 bytes, and JSON escaping
// can grow data sixfold).
const notifyInline = 1000

// The row's "at" is the time of the INSERT statement (clock_timestamp), not
// of its transaction's start, to keep late commits close to the poll window.
const insertColumns = `INSERT INTO cluster_events (id, node_id, at, nbf, expire_at, channel, data)
  VALUES ($1, $2, clock_timestamp()::timestamptz(3),
          CASE WHEN $3::bigint > 0 THEN clock_timestamp()::timestamptz(3) + make_interval(secs => $3::bigint) END,
          clock_timestamp()::timestamptz(3) + make_interval(secs => $4::bigint), $5, $6)`

const insertSQL = insertColumns

// insertNotifySQL writes the row and notifies in one statement; the
// notification is delivered when the transaction commits.
const insertNotifySQL = `WITH ins AS (` + insertColumns + `
  RETURNING id, node_id, channel, data, at, nbf)
SELECT pg_notify($7, json_build_object(
  'id', id, 'node_id', node_id, 'channel', channel,
  'delay', COALESCE(EXTRACT(EPOCH FROM nbf - at), 0),
  'inline', octet_length(data) <= $8,
  'data', CASE WHEN octet_length(data) <= $8 THEN data END)::text) FROM ins`

func (s *pgStore) insert(ctx context.Context, tx DB, r *row, delay, ttl time.Duration) error {
	db := s.db
	if tx != nil {
		db = tx
	}
	d, t := int64(delay/time.Second), int64((ttl+time.Second-1)/time.Second)
	var err error
	if s.notify {
		_, err = db.Exec(ctx, insertNotifySQL, r.ID, r.NodeID, d, t, r.Channel, r.Data, s.channel, notifyInline)
	} else {
		_, err = db.Exec(ctx, insertSQL, r.ID, r.NodeID, d, t, r.Channel, r.Data)
	}
	return err
}

func (s *pgStore) serverTime(ctx context.Context) (time.Time, error) {
	var now time.Time
	err := s.db.QueryRow(ctx, `SELECT CURRENT_TIMESTAMP(3)`).Scan(&now)
	return now, err
}

const pageSQL = `SELECT id::text, node_id::text, COALESCE(channel, ''), COALESCE(data, ''), at, nbf, CURRENT_TIMESTAMP(3)
  FROM cluster_events
 WHERE channel = ANY($1) AND at > $2 AND at <= CURRENT_TIMESTAMP(3)
 ORDER BY at
 LIMIT $3 OFFSET $4`

func (s *pgStore) page(ctx context.Context, channels []string, minAt time.Time, offset int) ([]row, time.Time, error) {
	rs, err := s.db.Query(ctx, pageSQL, channels, minAt, pageSize, offset)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rs.Close()
	var out []row
	var now time.Time
	for rs.Next() {
		var r row
		var nbf *time.Time
		if err := rs.Scan(&r.ID, &r.NodeID, &r.Channel, &r.Data, &r.At, &nbf, &now); err != nil {
			return nil, time.Time{}, err
		}
		if nbf != nil {
			r.Nbf = *nbf
		}
		out = append(out, r)
	}
	return out, now, rs.Err()
}

const byIDSQL = `SELECT id::text, node_id::text, COALESCE(channel, ''), COALESCE(data, ''), at, nbf
  FROM cluster_events WHERE id = $1`

// notice is the NOTIFY payload.
type notice struct {
	ID      string  `json:"id"`
	NodeID  string  `json:"node_id"`
	Channel string  `json:"channel"`
	Delay   float64 `json:"delay"`
	Inline  bool    `json:"inline"`
	Data    *string `json:"data"`
}

func (s *pgStore) listen(ctx context.Context, deliver func(r row), poll func()) {
	if !s.notify {
		<-ctx.Done()
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, deliver, poll)
		if ctx.Err() != nil {
			return
		}
		s.log.Error("[cluster events] LISTEN connection lost; polling only until it is back", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (s *pgStore) listenOnce(ctx context.Context, deliver func(r row), poll func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.listenCfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	poll() // catch up on what was written while nobody listened
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var nt notice
		if err := json.Unmarshal([]byte(n.Payload), &nt); err != nil {
			s.log.Error("[cluster events] bad notification payload", "payload", n.Payload, "err", err)
			continue
		}
		r := row{ID: nt.ID, NodeID: nt.NodeID, Channel: nt.Channel, Delay: time.Duration(nt.Delay * float64(time.Second))}
		if nt.Inline && nt.Data != nil {
			r.Data = *nt.Data
			deliver(r)
			continue
		}
		if err := s.fetch(ctx, &r); err != nil {
			s.log.Error("[cluster events] could not fetch notified event", "id", nt.ID, "err", err)
			poll()
			continue
		}
		deliver(r)
	}
}

func (s *pgStore) fetch(ctx context.Context, r *row) error {
	var nbf *time.Time
	err := s.db.QueryRow(ctx, byIDSQL, r.ID).Scan(&r.ID, &r.NodeID, &r.Channel, &r.Data, &r.At, &nbf)
	if err != nil {
		return fmt.Errorf("select by id: %w", err)
	}
	return nil
}
