package ngx_test

import (
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/pdk/ngx"
	"github.com/luahost/luahost/pdk/pdktest"
)

func TestSemaphoreModule(t *testing.T) {
	in, _ := pdktest.New(t)
	for src, want := range map[string]string{
		`local s = require("ngx.semaphore").new(2) return s:count()`:                                                                                                   "2",
		`local s = require("ngx.semaphore").new() local ok, err = s:wait(0) return tostring(ok) .. " " .. err`:                                                         "nil timeout",
		`local s = require("ngx.semaphore").new(1) local a = s:wait(0) local b, err = s:wait(0) return tostring(a) .. tostring(b) .. err .. s:count()`:                 "trueniltimeout0",
		`local s = require("ngx.semaphore").new(0) s:post() s:post(3) return s:count()`:                                                                                "4",
		`local s = require("ngx.semaphore").new("3") return s:count()`:                                                                                                 "3",
		`local s = require("ngx.semaphore").new(0) local t0 = ngx.now() local ok, err = s:wait(0.05) ngx.update_time() return err .. tostring(ngx.now() - t0 >= 0.04)`: "timeouttrue",
		`local sema = require("ngx.semaphore") local s = sema.new(1) return tostring(sema.wait(s, 0))`:                                                                 "true",
	} {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s\n= %q, want %q", src, got, want)
		}
	}
	for src, want := range map[string]string{
		`require("ngx.semaphore").new(-1)`:               "test.lua:1: no negative number",
		`require("ngx.semaphore").new(1):wait(-1)`:       "test.lua:1: no negative number",
		`require("ngx.semaphore").new(1):post(0)`:        "test.lua:1: positive number required",
		`local s = require("ngx.semaphore") s.count({})`: "test.lua:1: not a semaphore instance",
	} {
		if got := pdktest.LuaErr(t, in, src); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
	}
}

// A wait is woken by a post from another goroutine, first come first
// served; a waiter that timed out takes nothing.
func TestSemaWakesAcrossGoroutines(t *testing.T) {
	s := ngx.NewSema(0)
	got := make(chan bool)
	go func() { got <- s.Wait(time.Minute, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.Count() != -1 {
		if time.Now().After(deadline) {
			t.Fatal("waiter never registered")
		}
		time.Sleep(time.Millisecond)
	}
	s.Post(2)
	if !<-got {
		t.Fatal("wait not woken")
	}
	if s.Count() != 1 {
		t.Fatalf("count %d after post(2) to one waiter", s.Count())
	}
	done := make(chan struct{})
	close(done)
	s2 := ngx.NewSema(0)
	if s2.Wait(time.Minute, done) || s2.Count() != 0 {
		t.Fatal("a cancelled wait took a resource or stayed registered")
	}
}
