package host

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/luahost/luahost/pdk"
)

func numCPU() int { return runtime.NumCPU() }

// ErrPoolClosed is returned by Acquire after Close.
var ErrPoolClosed = errors.New("worker pool closed")

// Pool keeps workers between min and max. A worker is handed to one
// goroutine at a time; a poisoned worker (stopped by its deadline) is
// discarded and replaced.
type Pool struct {
	h        *Host
	min, max int
	idle     chan *Worker
	done     chan struct{} // closed by Close: wakes every waiting Acquire

	// mu guards the counters and closed; a worker goes into idle only
	// under mu and while !closed, so Close's drain finds every one.
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
	Total, Idle, Min, Max        int
	Acquired, Created, Discarded int64
	// Waiting counts goroutines blocked in Acquire for a worker.
	Waiting int64
}

func newPool(h *Host, minW, maxW int, first *Worker) *Pool {
	p := &Pool{h: h, min: minW, max: maxW, idle: make(chan *Worker, maxW), done: make(chan struct{}), total: 1, nextID: 1,
		all: map[*Worker]struct{}{first: {}}, created: 1}
	first.drainIdle()
	p.idle <- first
	for p.total < p.min {
		if _, err := p.grow(); err != nil {
			h.Logger.Error("could not start worker", "err", err)
			break
		}
	}
	return p
}

// grow builds one more worker and puts it in the idle set.
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
	if err != nil {
		return nil, err
	}
	p.putIdle(w)
	return w, nil
}

// putIdle puts w back in the idle set, or closes it when the pool closed
// meanwhile (a worker built or released during Close is not leaked).
func (p *Pool) putIdle(w *Worker) {
	p.mu.Lock()
	if !p.closed {
		p.idle <- w // never blocks: cap(idle) = max >= total
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.closeWorker(w)
}

// closeWorker closes a worker that is out of the idle set (its busy lock
// not held) and forgets it.
func (p *Pool) closeWorker(w *Worker) {
	w.busy.Lock()
	p.forget(w)
	w.Close()
	w.busy.Unlock()
}

func (p *Pool) forget(w *Worker) {
	p.mu.Lock()
	if _, ok := p.all[w]; ok {
		delete(p.all, w)
		p.total--
		p.freeIDs = append(p.freeIDs, w.ID)
	}
	p.mu.Unlock()
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
	p.mu.Lock()
	p.all[w] = struct{}{}
	p.created++
	p.mu.Unlock()
	w.drainIdle()
	return w, nil
}

// Acquire borrows a worker, creating one when none is idle and the pool is
// below max, else waiting until one is released or ctx is done.
func (p *Pool) Acquire(ctx context.Context) (*Worker, error) {
	select {
	case w := <-p.idle:
		return p.handOut(w)
	default:
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
		return p.handOut(w)
	}
	p.mu.Unlock()
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	select {
	case w := <-p.idle:
		return p.handOut(w)
	case <-p.done:
		return nil, ErrPoolClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Pool) handOut(w *Worker) (*Worker, error) {
	if w == nil {
		return nil, ErrPoolClosed
	}
	w.busy.Lock()
	p.acquired.Add(1)
	// Before a worker runs anything it takes the events waiting for it.
	pdk.Drain(w.In)
	return w, nil
}

// Release returns a worker. A poisoned worker is closed and, to keep min,
// replaced in the background.
func (p *Pool) Release(w *Worker) {
	if w.poisoned {
		p.discard(w)
		return
	}
	w.reset()
	w.busy.Unlock()
	p.putIdle(w)
}

func (p *Pool) discard(w *Worker) {
	p.mu.Lock()
	p.discarded++
	p.mu.Unlock()
	p.forget(w)
	w.Close()
	w.busy.Unlock()
	p.mu.Lock()
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

// eachIdle runs fn on each worker idle now, one at a time, as if borrowed
// (not counted in Acquired); a worker fn leaves poisoned is replaced. A
// worker released meanwhile may be visited twice or not at all.
func (p *Pool) eachIdle(fn func(*Worker)) {
	for n := len(p.idle); n > 0; n-- {
		var w *Worker
		select {
		case w = <-p.idle:
		default:
			return
		}
		if w == nil {
			return
		}
		w.busy.Lock()
		pdk.Drain(w.In)
		fn(w)
		p.Release(w)
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
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStat{Total: p.total, Idle: len(p.idle), Min: p.min, Max: p.max,
		Acquired: p.acquired.Load(), Created: p.created, Discarded: p.discarded, Waiting: p.waiting.Load()}
}

// Close closes idle workers and returns ErrPoolClosed to every goroutine
// waiting in Acquire; busy workers are closed when released. Calling it
// again does nothing.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	for {
		select {
		case w := <-p.idle:
			p.closeWorker(w)
		default:
			return
		}
	}
}
