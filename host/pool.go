package host

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
)

func numCPU() int { return runtime.NumCPU() }

// ErrPoolClosed is returned by Acquire after Close.
var ErrPoolClosed = errors.New("worker pool closed")

// Pool keeps workers between min and max. A worker is a mutually exclusive
// executor (its busy lock): whoever holds the lock owns its Lua state.
// Requests are pinned to one worker for their whole life (attach) but hold
// its lock only while one of their phases runs, so one worker serves many
// requests in flight, interleaved between phases (Kong's one VM per nginx
// worker). Go code that needs a state for a while (the Admin API, a
// migration, a schema check) borrows one with Acquire and holds its lock
// until Release.
//
// A poisoned worker (stopped by its deadline, or its state broken) is
// retired: out of the pool at once, replaced in the background to keep
// min, and closed when the last request pinned to it ended and nobody
// holds it. Close retires every worker the same way: the requests in
// flight run their remaining phases, then the states close.
type Pool struct {
	h        *Host
	min, max int
	done     chan struct{} // closed by Close: wakes every waiting Acquire

	// live is the workers serving (not retired), by ID, copied on write
	// under mu: a request picks its worker from it without a lock.
	live atomic.Pointer[[]*Worker]
	// freed wakes a goroutine waiting for a worker: whoever unlocks one
	// sends when waiting > 0, and so does a grow.
	freed   chan struct{}
	growing atomic.Bool

	// mu guards the counters, all and closed.
	mu      sync.Mutex
	total   int
	freeIDs []int
	nextID  int
	closed  bool
	all     map[*Worker]struct{}

	acquired           atomic.Int64
	waiting            atomic.Int64
	discarded, created int64
}

// PoolStat is a snapshot of the pool (pgxpool's vocabulary).
type PoolStat struct {
	// Idle counts the workers no request is pinned to and nobody borrowed.
	Total, Idle, Min, Max int
	// Acquired counts borrowings and requests pinned to a worker.
	Acquired, Created, Discarded int64
	// Waiting counts goroutines blocked in Acquire for a worker.
	Waiting int64
}

func newPool(h *Host, minW, maxW int, first *Worker) *Pool {
	p := &Pool{h: h, min: minW, max: maxW, done: make(chan struct{}), freed: make(chan struct{}, 1),
		total: 1, nextID: 1, all: map[*Worker]struct{}{first: {}}, created: 1}
	first.pool = p
	first.drainIdle()
	p.publish()
	for p.total < p.min {
		if _, err := p.grow(); err != nil {
			h.Logger.Error("could not start worker", "err", err)
			break
		}
	}
	return p
}

// publish rebuilds live from all; mu held.
func (p *Pool) publish() {
	ws := make([]*Worker, 0, len(p.all))
	for w := range p.all {
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b *Worker) int { return a.ID - b.ID })
	p.live.Store(&ws)
}

// liveIDs lists the ids of the workers serving (Root.LiveWorkers:
// kong.node.get_memory_stats reports one Lua VM each).
func (p *Pool) liveIDs() []int {
	ws := *p.live.Load()
	ids := make([]int, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	return ids
}

// wake tells a goroutine waiting for a worker to look again.
func (p *Pool) wake() {
	if p.waiting.Load() > 0 {
		select {
		case p.freed <- struct{}{}:
		default:
		}
	}
}

// grow builds one more worker (below max) and makes it live.
func (p *Pool) grow() (*Worker, error) {
	p.mu.Lock()
	if p.closed || p.total >= p.max {
		p.mu.Unlock()
		return nil, nil
	}
	id := p.takeID()
	p.total++
	p.mu.Unlock()
	w, err := p.build(id)
	if err != nil || w == nil {
		return nil, err
	}
	p.wake()
	return w, nil
}

// growAsync grows the pool by one worker in the background, one build at
// a time: requests found every worker busy.
func (p *Pool) growAsync() {
	if len(*p.live.Load()) >= p.max || p.growing.Load() {
		return
	}
	p.mu.Lock()
	need := !p.closed && p.total < p.max
	p.mu.Unlock()
	if !need || !p.growing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer p.growing.Store(false)
		if _, err := p.grow(); err != nil {
			p.h.Logger.Error("could not start worker", "err", err)
		}
	}()
}

func (p *Pool) takeID() int {
	if n := len(p.freeIDs); n > 0 {
		id := p.freeIDs[n-1]
		p.freeIDs = p.freeIDs[:n-1]
		return id
	}
	id := p.nextID
	p.nextID++
	return id
}

// build makes worker id (counted in total by the caller) live; nil, nil
// when the pool closed meanwhile.
func (p *Pool) build(id int) (*Worker, error) {
	w, _, errs := p.h.newWorker(id, false)
	if len(errs) > 0 {
		if w != nil {
			w.Close()
		}
		p.mu.Lock()
		p.total--
		p.freeIDs = append(p.freeIDs, id)
		p.mu.Unlock()
		return nil, &PluginErrors{Errs: errs}
	}
	w.pool = p
	w.drainIdle()
	p.mu.Lock()
	if p.closed {
		p.total--
		p.mu.Unlock()
		w.Close()
		return nil, nil
	}
	p.all[w] = struct{}{}
	p.created++
	p.publish()
	p.mu.Unlock()
	return w, nil
}

// tryLock locks a live worker that is free now, preferring (when
// unattached) one no request is pinned to; nil when every one is busy.
// The first free one in ID order is taken, so that a lightly loaded node
// keeps its requests in few states (warm caches).
func (p *Pool) tryLock(unattached bool) *Worker {
	ws := *p.live.Load()
	for pass := 0; pass < 2; pass++ {
		for _, w := range ws {
			if pass == 0 && unattached && w.attached.Load() > 0 {
				continue
			}
			if !w.retired.Load() && w.busy.TryLock() {
				if w.retired.Load() {
					p.unlock(w)
					continue
				}
				return w
			}
		}
		if !unattached {
			break
		}
	}
	return nil
}

// lockAny locks a worker: a free one, else a new one below max, else the
// first freed, until ctx is done or the pool closes.
func (p *Pool) lockAny(ctx context.Context, unattached bool) (*Worker, error) {
	for {
		if w := p.tryLock(unattached); w != nil {
			return w, nil
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrPoolClosed
		}
		if p.total < p.max {
			id := p.takeID()
			p.total++
			p.mu.Unlock()
			w, err := p.build(id)
			if err != nil {
				return nil, err
			}
			if w == nil {
				return nil, ErrPoolClosed
			}
			w.busy.Lock()
			if w.retired.Load() {
				p.unlock(w)
				continue
			}
			return w, nil
		}
		p.mu.Unlock()
		if w, err := p.wait(ctx, unattached); w != nil || err != nil {
			return w, err
		}
	}
}

// wait blocks until a worker may be free; it returns one it could lock,
// or nothing (look again), or ctx's error or ErrPoolClosed.
func (p *Pool) wait(ctx context.Context, unattached bool) (*Worker, error) {
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	// Registered as waiting: a worker unlocked from now on wakes us; one
	// unlocked before is found here.
	if w := p.tryLock(unattached); w != nil {
		return w, nil
	}
	// A worker freed by the drainer of an idle worker's events, or a
	// wake-up taken by another waiter, is found within this period.
	t := time.NewTimer(50 * time.Millisecond)
	defer t.Stop()
	select {
	case <-p.freed:
	case <-t.C:
	case <-p.done:
		return nil, ErrPoolClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return nil, nil
}

// Acquire borrows a worker for the caller alone (preferably one no
// request is pinned to), creating one when none is free and the pool is
// below max, else waiting until one is released or ctx is done.
func (p *Pool) Acquire(ctx context.Context) (*Worker, error) {
	select {
	case <-p.done:
		return nil, ErrPoolClosed
	default:
	}
	w, err := p.lockAny(ctx, true)
	if err != nil {
		return nil, err
	}
	w.attached.Add(1)
	p.acquired.Add(1)
	// Before a worker runs anything it takes the events waiting for it;
	// the borrower gets an ngx.ctx of its own (not a pinned request's).
	w.In.SetCtx(luavm.NewSizedTable(w.L, 0, ctxHashCap))
	pdk.Drain(w.In)
	return w, nil
}

// Release returns a borrowed worker. A poisoned worker is retired and, to
// keep min, replaced in the background.
func (p *Pool) Release(w *Worker) {
	w.attached.Add(-1)
	if w.poisoned {
		p.retire(w)
	} else {
		w.reset()
	}
	p.unlock(w)
}

// attach pins a request to a worker and returns it locked (the request's
// first phase runs next): the first free worker, else (every one busy)
// the one with fewest requests pinned, the pool growing by one in the
// background. No lock of the pool's is taken while a worker is live.
func (p *Pool) attach() (*Worker, error) {
	for {
		w := p.tryLock(false)
		if w == nil {
			ws := *p.live.Load()
			if len(ws) == 0 {
				var err error
				if w, err = p.lockAny(context.Background(), false); err != nil {
					return nil, err
				}
			} else {
				p.growAsync()
				w = ws[0]
				for _, o := range ws[1:] {
					if o.attached.Load() < w.attached.Load() {
						w = o
					}
				}
				w.busy.Lock()
				if w.retired.Load() {
					p.unlock(w)
					continue
				}
			}
		}
		w.attached.Add(1)
		p.acquired.Add(1)
		return w, nil
	}
}

// detach unpins a request from w (busy held; unlock follows).
func (p *Pool) detach(w *Worker) {
	w.attached.Add(-1)
	if w.poisoned {
		p.retire(w)
	}
}

// unlock releases w's lock; a retired worker nobody uses any more is
// closed.
func (p *Pool) unlock(w *Worker) {
	if w.retired.Load() && w.attached.Load() == 0 && !w.closed {
		w.Close()
	}
	w.busy.Unlock()
	// Close retires a worker held by someone, then tries its lock: either
	// it got it, or this load sees the retirement.
	if w.retired.Load() && w.attached.Load() == 0 && w.busy.TryLock() {
		if !w.closed && w.attached.Load() == 0 {
			w.Close()
		}
		w.busy.Unlock()
	}
	p.wake()
}

// retire takes w out of the pool (poisoned: counted as discarded) and
// starts its replacement when below min. The state is closed by unlock
// once no request is pinned to it.
func (p *Pool) retire(w *Worker) {
	if w.retired.Swap(true) {
		return
	}
	p.mu.Lock()
	if _, ok := p.all[w]; ok {
		delete(p.all, w)
		p.total--
		p.freeIDs = append(p.freeIDs, w.ID)
		p.publish()
	}
	p.discarded++
	need := !p.closed && p.total < p.min
	p.mu.Unlock()
	if need {
		go func() {
			if _, err := p.grow(); err != nil {
				p.h.Logger.Error("could not replace worker", "err", err)
			}
		}()
	}
}

// eachIdle runs fn on each live worker free now, one at a time, as if
// borrowed (not counted in Acquired): requests may be pinned to it,
// between two of their phases. A worker fn leaves poisoned is replaced.
func (p *Pool) eachIdle(fn func(*Worker)) {
	for _, w := range *p.live.Load() {
		if w.retired.Load() || !w.busy.TryLock() {
			continue
		}
		if !w.retired.Load() {
			pdk.Drain(w.In)
			fn(w)
			if w.poisoned {
				p.retire(w)
			}
		}
		p.unlock(w)
	}
}

// AcquireFunc runs fn with a borrowed worker and releases it.
func (p *Pool) AcquireFunc(ctx context.Context, fn func(*Worker) error) error {
	w, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer p.Release(w)
	return fn(w)
}

// Stat reports the pool's counters.
func (p *Pool) Stat() PoolStat {
	idle := 0
	for _, w := range *p.live.Load() {
		if w.attached.Load() == 0 {
			idle++
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStat{Total: p.total, Idle: idle, Min: p.min, Max: p.max,
		Acquired: p.acquired.Load(), Created: p.created, Discarded: p.discarded, Waiting: p.waiting.Load()}
}

// Close retires every worker and returns ErrPoolClosed to every goroutine
// waiting in Acquire (and to later ones). A worker nobody uses is closed
// now; one borrowed, or with requests pinned to it, when the last of them
// is done: requests in flight run their remaining phases, log included.
// Calling it again does nothing.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	ws := *p.live.Load()
	clear(p.all)
	p.total = 0
	p.publish()
	p.mu.Unlock()
	for _, w := range ws {
		w.retired.Store(true)
		if w.busy.TryLock() {
			p.unlock(w)
		}
	}
}
