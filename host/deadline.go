package host

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/luahost/luahost/luavm"
)

// Every Lua call runs under a deadline. gopher-lua checks its context on
// every instruction (mainLoopWithContext); a context.WithTimeout per call
// would allocate a timer and a context each time. Instead each worker keeps
// one cancellable context for as long as no deadline fires, and arms a
// deadline with one atomic store; a single watchdog goroutine cancels the
// context of any worker whose deadline has passed.

type deadline struct {
	at     atomic.Int64 // monoNow's nanoseconds; 0 = disarmed
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	fired  atomic.Bool
}

func newDeadline() *deadline {
	d := &deadline{}
	d.newCtx()
	return d
}

// newCtx gives d a fresh context: a luavm.StopContext, which the VM's
// polled instructions check with an atomic load.
func (d *deadline) newCtx() {
	sc := luavm.NewStopContext(context.Background())
	d.ctx, d.cancel = sc, sc.Stop
}

// arm starts a deadline of timeout from now.
func (d *deadline) arm(timeout time.Duration) {
	d.at.Store(monoNow() + int64(timeout))
}

// pause stops the clock of an armed deadline (the call compiles a module);
// the function it returns re-arms it with the time that was left.
func (d *deadline) pause() (resume func()) {
	at := d.at.Swap(0)
	if at == 0 {
		return func() {}
	}
	left := at - monoNow()
	return func() { d.at.Store(monoNow() + left) }
}

// disarm stops the deadline; it reports whether it fired.
func (d *deadline) disarm() bool {
	d.at.Store(0)
	return d.fired.Load()
}

// renew replaces a fired context with a fresh one; it returns the context
// to install in the LState, and whether it changed.
func (d *deadline) renew() (context.Context, bool) {
	if !d.fired.Load() {
		return d.ctx, false
	}
	d.mu.Lock()
	d.newCtx()
	d.fired.Store(false)
	ctx := d.ctx
	d.mu.Unlock()
	return ctx, true
}

func (d *deadline) check(now int64) {
	at := d.at.Load()
	if at == 0 || now < at {
		return
	}
	d.mu.Lock()
	if d.at.Load() != 0 && !d.fired.Load() {
		d.fired.Store(true)
		d.cancel()
	}
	d.mu.Unlock()
}

// watchdog scans armed deadlines.
type watchdog struct {
	mu    sync.Mutex
	set   map[*deadline]struct{}
	once  sync.Once
	every time.Duration
}

var dog = &watchdog{set: map[*deadline]struct{}{}, every: 5 * time.Millisecond}

func (w *watchdog) add(d *deadline) {
	w.once.Do(func() { go w.run() })
	w.mu.Lock()
	w.set[d] = struct{}{}
	w.mu.Unlock()
}

func (w *watchdog) remove(d *deadline) {
	w.mu.Lock()
	delete(w.set, d)
	w.mu.Unlock()
}

func (w *watchdog) run() {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for range t.C {
		n := monoNow()
		w.mu.Lock()
		for d := range w.set {
			d.check(n)
		}
		w.mu.Unlock()
	}
}
