package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/luahost/luahost/conf"
)

// ClusterConfig configures ClusterEvents (kong.cluster_events).
type ClusterConfig struct {
	// TxFrom, when set, finds the caller's transaction in a Broadcast's
	// context (postgres.Connector.TxOf): the row then commits with the
	// entity change it describes.
	TxFrom func(ctx context.Context) DB
	// NodeID is this node's id (kong.node.get_id(), a UUID); rows it wrote
	// are never delivered back to it.
	NodeID string
	// PollInterval is db_update_frequency (default 5 s).
	PollInterval time.Duration
	// PollOffset is db_update_propagation: how far back each poll reaches
	// behind the last seen DB time.
	PollOffset time.Duration
	// PollDelay is also db_update_propagation in Kong: when > 0 every
	// broadcast row gets nbf = now + PollDelay (whole seconds), overriding
	// the delay argument.
	PollDelay time.Duration
	// Lookback widens every poll window by this much more (default 1 s;
	// negative = none), on top of Kong's algorithm. Rows carry the time
	// their transaction wrote them, and a row committed late (BroadcastTx
	// inside a longer transaction) can land behind a window that already
	// moved on; de-duplication makes the overlap harmless.
	Lookback time.Duration
	// Notify turns on LISTEN/NOTIFY (postgres; conf pg_notify): a broadcast
	// reaches other luahost nodes on commit instead of at their next poll.
	// Polling stays on, so Kong nodes and a lost connection are covered.
	Notify bool
	// NotifyChannel is the NOTIFY channel (default "luahost_cluster_events").
	NotifyChannel string
	Logger        *slog.Logger
	// Now is the local clock (default time.Now).
	Now func() time.Time
}

// ClusterConfigFrom reads db_update_frequency, db_update_propagation and
// pg_notify.
func ClusterConfigFrom(c *conf.Config, nodeID string) ClusterConfig {
	prop := secs(c.Float("db_update_propagation", 0))
	return ClusterConfig{
		NodeID:       nodeID,
		PollInterval: secs(c.Float("db_update_frequency", 5)),
		PollOffset:   prop,
		PollDelay:    prop,
		Notify:       c.Bool("pg_notify"),
	}
}

func secs(f float64) time.Duration {
	if f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// minEventTTL is how long rows live at least (Kong's MIN_EVENT_TTL_IN_DB).
const minEventTTL = time.Hour

// pageSize is Kong's poll page size.
const pageSize = 1000

// row is one cluster_events row.
type row struct {
	ID, NodeID, Channel, Data string
	At                        time.Time
	Nbf                       time.Time // zero = none
	// Delay, for a row received by notification: nbf - at, applied from
	// the moment it arrived (no clock comparison across machines).
	Delay time.Duration
}

// store is a cluster_events backend.
type store interface {
	// insert writes r (r.At and expiry set by the store); db, when not nil,
	// is the caller's transaction (postgres only).
	insert(ctx context.Context, db DB, r *row, delay, ttl time.Duration) error
	serverTime(ctx context.Context) (time.Time, error)
	// page returns up to pageSize rows of channels with at in (minAt, now],
	// ordered by at, and the store's now.
	page(ctx context.Context, channels []string, minAt time.Time, offset int) ([]row, time.Time, error)
	// listen delivers notified rows until ctx ends (nil-op when the store
	// has no notifications); poll asks for a poll (a row needs fetching or
	// notifications may have been missed).
	listen(ctx context.Context, deliver func(r row), poll func())
}

// ClusterEvents is kong.cluster_events for one node: Broadcast writes a
// row, Subscribe registers callbacks, and a poller (plus LISTEN/NOTIFY)
// delivers other nodes' rows, each once, serially.
type ClusterEvents struct {
	cfg   ClusterConfig
	st    store
	log   *slog.Logger
	ttl   time.Duration // row lifetime in the table
	dedup time.Duration // how long a delivered id is remembered

	mu        sync.Mutex
	callbacks map[string][]func(string)
	channels  []string
	lastAt    time.Time
	seen      map[string]time.Time // delivered ids, until when to remember them
	pruned    time.Time            // last sweep of seen
	started   bool
	closed    bool // delayed (nbf) callbacks due after Close are dropped
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	pollNow   chan struct{}

	deliverMu sync.Mutex // callbacks run one at a time
}

func newClusterEvents(ctx context.Context, st store, cfg ClusterConfig) (*ClusterEvents, error) {
	if _, err := uuid.Parse(cfg.NodeID); err != nil {
		return nil, fmt.Errorf("cluster events: node id %q is not a UUID", cfg.NodeID)
	}
	if cfg.PollInterval < 0 {
		cfg.PollInterval = 0
	}
	if cfg.Lookback == 0 {
		cfg.Lookback = time.Second
	} else if cfg.Lookback < 0 {
		cfg.Lookback = 0
	}
	if cfg.NotifyChannel == "" {
		cfg.NotifyChannel = "luahost_cluster_events"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ce := &ClusterEvents{
		cfg:       cfg,
		st:        st,
		log:       cfg.Logger,
		ttl:       max(cfg.PollOffset*10, minEventTTL),
		dedup:     cfg.PollInterval*2 + cfg.PollOffset + cfg.Lookback + time.Second,
		callbacks: map[string][]func(string){},
		seen:      map[string]time.Time{},
		pollNow:   make(chan struct{}, 1),
	}
	at, err := st.serverTime(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster events: could not read server time: %w", err)
	}
	ce.lastAt = at
	return ce, nil
}

// NodeID is this node's id.
func (ce *ClusterEvents) NodeID() string { return ce.cfg.NodeID }

// Broadcast writes an event for every other node (cluster_events:broadcast).
// delay > 0 sets nbf = now + delay (whole seconds) unless PollDelay
// overrides it. Errors read "could not insert invalidation row: <err>".
func (ce *ClusterEvents) Broadcast(ctx context.Context, channel, data string, delay time.Duration) error {
	return ce.BroadcastTx(ctx, nil, channel, data, delay)
}

// BroadcastTx is Broadcast inside the caller's transaction (a pgx.Tx): the
// row commits or rolls back with the entity change it describes, and the
// notification goes out on commit, so a node dying between the two cannot
// leave other nodes stale (Kong/kong#8176). With the memory strategy tx must
// be nil.
func (ce *ClusterEvents) BroadcastTx(ctx context.Context, tx DB, channel, data string, delay time.Duration) error {
	if tx == nil && ce.cfg.TxFrom != nil {
		tx = ce.cfg.TxFrom(ctx)
	}
	if ce.cfg.PollDelay > 0 {
		delay = ce.cfg.PollDelay
	}
	r := &row{ID: uuid.NewString(), NodeID: ce.cfg.NodeID, Channel: channel, Data: data}
	if err := ce.st.insert(ctx, tx, r, delay.Truncate(time.Second), ce.ttl); err != nil {
		return fmt.Errorf("could not insert invalidation row: %w", err)
	}
	return nil
}

// Subscribe registers cb for channel (several per channel allowed) and
// starts polling on the first subscription, as Kong does. Callbacks run on
// the poller's goroutine, one at a time; a panic is logged.
func (ce *ClusterEvents) Subscribe(channel string, cb func(data string)) error {
	if cb == nil {
		return errors.New("callback must be a function")
	}
	ce.mu.Lock()
	if _, ok := ce.callbacks[channel]; !ok {
		ce.channels = append(ce.channels, channel)
	}
	ce.callbacks[channel] = append(ce.callbacks[channel], cb)
	start := !ce.started
	ce.started = true
	ce.mu.Unlock()
	if start {
		ce.start()
	}
	return nil
}

func (ce *ClusterEvents) start() {
	ctx, cancel := context.WithCancel(context.Background())
	ce.mu.Lock()
	ce.cancel = cancel
	ce.closed = false
	ce.mu.Unlock()
	ce.wg.Add(2)
	go func() {
		defer ce.wg.Done()
		ce.st.listen(ctx, ce.deliverNotified, ce.requestPoll)
	}()
	go func() {
		defer ce.wg.Done()
		ce.pollLoop(ctx)
	}()
}

// Close stops polling and listening and waits for them.
func (ce *ClusterEvents) Close() {
	ce.mu.Lock()
	cancel := ce.cancel
	ce.closed = true
	ce.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	ce.wg.Wait()
}

func (ce *ClusterEvents) requestPoll() {
	select {
	case ce.pollNow <- struct{}{}:
	default:
	}
}

func (ce *ClusterEvents) pollLoop(ctx context.Context) {
	interval := ce.cfg.PollInterval
	if interval < time.Millisecond {
		interval = time.Millisecond
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-ce.pollNow:
		}
		if err := ce.Poll(ctx); err != nil && ctx.Err() == nil {
			ce.log.Error("[cluster events] " + err.Error())
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(interval)
	}
}

// Poll runs one poll now (Kong's poll(), KONG-REFERENCE §7.3): rows of the
// subscribed channels written after the last seen DB time (minus
// PollOffset, 1 ms and Lookback), page by page, other nodes' rows only,
// each row once.
func (ce *ClusterEvents) Poll(ctx context.Context) error {
	ce.mu.Lock()
	channels := append([]string(nil), ce.channels...)
	minAt := ce.lastAt.Add(-ce.cfg.PollOffset - time.Millisecond - ce.cfg.Lookback)
	ce.mu.Unlock()
	if len(channels) == 0 {
		return nil
	}
	for page := 0; ; page++ {
		rows, now, err := ce.st.page(ctx, channels, minAt, page*pageSize)
		if err != nil {
			return fmt.Errorf("failed to retrieve events from DB: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		if page == 0 {
			ce.mu.Lock()
			ce.lastAt = now
			ce.mu.Unlock()
		}
		for i := range rows {
			r := &rows[i]
			if r.Nbf.IsZero() {
				r.Delay = 0
			} else {
				r.Delay = r.Nbf.Sub(now)
			}
			ce.process(r)
		}
		if len(rows) < pageSize {
			return nil
		}
	}
}

func (ce *ClusterEvents) deliverNotified(r row) { ce.process(&r) }

// process delivers one row unless it is ours or already delivered.
func (ce *ClusterEvents) process(r *row) {
	if r.NodeID == ce.cfg.NodeID {
		return
	}
	now := ce.cfg.Now()
	ce.mu.Lock()
	if until, ok := ce.seen[r.ID]; ok && now.Before(until) {
		ce.mu.Unlock()
		return
	}
	// Marked before the callbacks run, as Kong does, so a slow callback
	// is not run twice.
	ce.seen[r.ID] = now.Add(ce.dedup)
	if now.Sub(ce.pruned) > time.Second {
		ce.pruned = now
		for id, until := range ce.seen {
			if !now.Before(until) {
				delete(ce.seen, id)
			}
		}
	}
	cbs := append(make([]func(string), 0, len(ce.callbacks[r.Channel])), ce.callbacks[r.Channel]...)
	ce.mu.Unlock()
	for _, cb := range cbs {
		if r.Delay > 0 {
			cb, channel, data := cb, r.Channel, r.Data
			time.AfterFunc(r.Delay, func() { ce.run(cb, channel, data) })
			continue
		}
		ce.run(cb, r.Channel, r.Data)
	}
}

func (ce *ClusterEvents) run(cb func(string), channel, data string) {
	ce.deliverMu.Lock()
	defer ce.deliverMu.Unlock()
	ce.mu.Lock()
	closed := ce.closed
	ce.mu.Unlock()
	if closed {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			ce.log.Error("[cluster events] callback threw an error", "channel", channel,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	cb(data)
}
