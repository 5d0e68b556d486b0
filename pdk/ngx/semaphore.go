package ngx

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// Sema is lua-resty-core's ngx.semaphore, Go-backed: a counting semaphore
// whose wait blocks the calling goroutine up to its timeout and is woken,
// first come first served, by a post from any goroutine of the process.
// In luahost a worker runs one thing at a time, so a wait with no resource
// left can only be satisfied by a post from another goroutine (OpenResty
// would run the worker's other light threads meanwhile).
type Sema struct {
	mu      sync.Mutex
	n       int
	waiters []chan struct{}
}

// NewSema returns a semaphore holding n resources.
func NewSema(n int) *Sema { return &Sema{n: n} }

// Post adds n resources, waking up to n waiters.
func (s *Sema) Post(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n > 0 && len(s.waiters) > 0 {
		close(s.waiters[0])
		s.waiters = s.waiters[1:]
		n--
	}
	s.n += n
}

// Wait takes one resource, waiting up to timeout (or until done closes);
// false when none came.
func (s *Sema) Wait(timeout time.Duration, done <-chan struct{}) bool {
	s.mu.Lock()
	if s.n > 0 {
		s.n--
		s.mu.Unlock()
		return true
	}
	if timeout <= 0 {
		s.mu.Unlock()
		return false
	}
	ch := make(chan struct{})
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-done:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, w := range s.waiters {
		if w == ch {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			return false
		}
	}
	// posted to between the timeout and the lock: the resource is ours
	return true
}

// Count is the number of resources, or minus the number of waiters.
func (s *Sema) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) > 0 {
		return -len(s.waiters)
	}
	return s.n
}

// OpenSemaphoreModule preloads lua-resty-core's "ngx.semaphore": new(n),
// sema:wait(seconds) -> true | nil, "timeout", sema:post(n), sema:count(),
// with its error messages. phase is ngx.get_phase()'s answer now (nil: no
// check): outside ngx_lua's yieldable contexts wait answers nil, "API
// disabled in the context of ...", even with a resource free, as
// ngx_http_lua_ffi_sema_wait checks the context first.
func OpenSemaphoreModule(L *lua.LState, phase func() string) {
	L.PreloadModule("ngx.semaphore", func(L *lua.LState) int {
		mt := L.NewTable()
		check := func(L *lua.LState) *Sema {
			s, ok := bind.TestUserData[*Sema](L, 1)
			if !ok {
				bind.RaiseAtCaller(L, "not a semaphore instance")
			}
			return s
		}
		methods := map[string]lua.LGFunction{
			"wait": func(L *lua.LState) int {
				s := check(L)
				sec := float64(L.CheckNumber(2))
				if sec < 0 || sec != sec {
					bind.RaiseAtCaller(L, "no negative number")
				}
				if phase != nil {
					if msg := bind.ContextDisabled(phase(), bind.Yieldable); msg != "" {
						return bind.Fail(L, msg)
					}
				}
				var done <-chan struct{}
				if ctx := L.Context(); ctx != nil {
					done = ctx.Done()
				}
				d := time.Duration(math.Min(sec, 1e9) * float64(time.Second))
				if s.Wait(d, done) {
					L.Push(lua.LTrue)
					return 1
				}
				return bind.Fail(L, "timeout")
			},
			"post": func(L *lua.LState) int {
				s := check(L)
				n := 1.0
				if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
					n = float64(L.CheckNumber(2))
				}
				if n < 1 {
					bind.RaiseAtCaller(L, "positive number required")
				}
				s.Post(int(math.Min(n, math.MaxInt32)))
				L.Push(lua.LTrue)
				return 1
			},
			"count": func(L *lua.LState) int {
				L.Push(lua.LNumber(check(L).Count()))
				return 1
			},
		}
		index := L.SetFuncs(L.NewTable(), methods)
		mt.RawSetString("__index", index)
		mod := L.NewTable()
		L.SetFuncs(mod, methods)
		mod.RawSetString("version", lua.LString("0.1.28"))
		mod.RawSetString("new", L.NewFunction(func(L *lua.LState) int {
			n := 0.0
			if v, ok := L.Get(1).(lua.LNumber); ok {
				n = float64(v)
			} else if s, ok := L.Get(1).(lua.LString); ok {
				if f, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64); err == nil {
					n = f
				}
			}
			if n < 0 {
				bind.RaiseAtCaller(L, "no negative number")
			}
			L.Push(bind.NewUserData(L, NewSema(int(math.Min(n, math.MaxInt32))), mt))
			return 1
		}))
		L.Push(mod)
		return 1
	})
}
