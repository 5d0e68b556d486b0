package pdk

// The L1 of kong.cache: one LRU of Lua values per worker and per cache
// (lua-resty-lrucache in mlcache), bounded by item count, with per-entry
// expiry. Only the worker's own goroutine touches it; invalidations from
// other goroutines arrive through a queue of keys (l1Inbox) that the worker
// drains before every lookup, so a key invalidated anywhere is never served
// from L1 afterwards.

import (
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
)

// DefaultL1Size is Kong's lru_size for kong.cache (5e5 items).
const DefaultL1Size = 500000

// l1Entry is one cached value; neg marks a cached nil.
type l1Entry struct {
	key        string
	val        lua.LValue
	neg        bool
	exp        int64 // unix nanoseconds by the cache clock; 0 = never
	prev, next *l1Entry
}

type l1 struct {
	m    map[string]*l1Entry
	head l1Entry // sentinel: head.next is the most recent, head.prev the oldest
	max  int
	free *l1Entry // one recycled entry
}

func newL1(max int) *l1 {
	if max <= 0 {
		max = DefaultL1Size
	}
	c := &l1{m: make(map[string]*l1Entry), max: max}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *l1) unlink(e *l1Entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
}

func (c *l1) pushFront(e *l1Entry) {
	e.prev = &c.head
	e.next = c.head.next
	c.head.next.prev = e
	c.head.next = e
}

// get returns the entry of key when present and not expired at now.
func (c *l1) get(key string, now func() int64) *l1Entry {
	e := c.m[key]
	if e == nil {
		return nil
	}
	if e.exp != 0 && now() >= e.exp {
		c.remove(e)
		return nil
	}
	if c.head.next != e {
		c.unlink(e)
		c.pushFront(e)
	}
	return e
}

// set stores val (neg: a cached nil) under key until exp (0 = never).
func (c *l1) set(key string, val lua.LValue, neg bool, exp int64) {
	if e := c.m[key]; e != nil {
		e.val, e.neg, e.exp = val, neg, exp
		if c.head.next != e {
			c.unlink(e)
			c.pushFront(e)
		}
		return
	}
	var e *l1Entry
	if len(c.m) >= c.max {
		old := c.head.prev
		c.unlink(old)
		delete(c.m, old.key)
		e = old
	} else if c.free != nil {
		e, c.free = c.free, nil
	} else {
		e = &l1Entry{}
	}
	*e = l1Entry{key: key, val: val, neg: neg, exp: exp}
	c.m[key] = e
	c.pushFront(e)
}

func (c *l1) remove(e *l1Entry) {
	c.unlink(e)
	delete(c.m, e.key)
	*e = l1Entry{}
	c.free = e
}

func (c *l1) delete(key string) {
	if e := c.m[key]; e != nil {
		c.remove(e)
	}
}

func (c *l1) flush() {
	clear(c.m)
	c.head.next, c.head.prev = &c.head, &c.head
}

func (c *l1) len() int { return len(c.m) }

// maxQueuedDrops bounds an idle worker's queue of invalidated keys: past it
// the worker flushes its whole L1 instead of dropping keys one by one.
const maxQueuedDrops = 4096

// l1Inbox carries invalidations to one worker's L1 from any goroutine.
type l1Inbox struct {
	pending atomic.Bool
	mu      sync.Mutex
	keys    []string
	flush   bool
	spare   []string
}

func (q *l1Inbox) drop(key string) {
	q.mu.Lock()
	if !q.flush {
		if len(q.keys) >= maxQueuedDrops {
			q.flush, q.keys = true, q.keys[:0]
		} else {
			q.keys = append(q.keys, key)
		}
	}
	q.mu.Unlock()
	q.pending.Store(true)
}

func (q *l1Inbox) purge() {
	q.mu.Lock()
	q.flush, q.keys = true, q.keys[:0]
	q.mu.Unlock()
	q.pending.Store(true)
}

// apply drains the queue into c; it reports whether anything was dropped.
func (q *l1Inbox) apply(c *l1) bool {
	if !q.pending.Load() {
		return false
	}
	q.mu.Lock()
	q.pending.Store(false)
	keys, flush := q.keys, q.flush
	q.keys, q.flush = q.spare[:0], false
	q.mu.Unlock()
	if flush {
		c.flush()
	} else {
		for _, k := range keys {
			c.delete(k)
		}
	}
	clear(keys)
	q.mu.Lock()
	q.spare = keys[:0]
	q.mu.Unlock()
	return true
}
