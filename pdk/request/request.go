// Package request binds the request-bound part of Kong's PDK and of
// OpenResty's ngx.* to a worker: kong.request, kong.response, kong.service
// (.request, .response), kong.client, kong.router, kong.nginx, kong.ip,
// kong.log.serialize, and ngx.var, ngx.req, ngx.header, ngx.status,
// ngx.arg, ngx.say/print/flush/exit/redirect. They read and write the
// request the proxy is serving (a *proxy.Context) through a State, one per
// worker.
//
// The host drives a State: Begin when a worker takes a request, SetPhase
// around each phase's plugin calls, Exited after each plugin of rewrite
// and access to stop the loop once a plugin answered, End after log.
package request

import (
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/proxy"
)

// Phase is Kong's phase of a request (ctx.KONG_PHASE), what the PDK's
// phase checks compare with.
type Phase uint16

// Kong's phases (kong/pdk/private/phases.lua), as bits so that a set of
// them is one mask.
const (
	PhaseInit Phase = 1 << iota
	PhaseInitWorker
	PhaseCertificate
	PhaseRewrite
	PhaseAccess
	PhaseBalancer
	PhaseResponse
	PhaseHeaderFilter
	PhaseBodyFilter
	PhaseLog
	PhaseTimer
	PhaseAdminAPI
	PhasePreread
)

// ngxPhase is what ngx.get_phase() answers in a Kong phase.
var ngxPhase = map[Phase]string{
	PhaseInit: "init", PhaseInitWorker: "init_worker", PhaseCertificate: "ssl_cert",
	PhaseRewrite: "rewrite", PhaseAccess: "access", PhaseBalancer: "balancer",
	PhaseResponse: "access", PhaseHeaderFilter: "header_filter", PhaseBodyFilter: "body_filter",
	PhaseLog: "log", PhaseTimer: "timer", PhaseAdminAPI: "content", PhasePreread: "preread",
}

// State is one worker's request binding.
type State struct {
	in    *pdk.Instance
	c     *proxy.Context
	phase Phase
	// exited: the response was produced by a plugin (kong.response.exit,
	// kong.response.error, ngx.exit, ngx.redirect) in this request.
	exited bool
}

// Open installs the request-bound namespaces into a worker's instance and
// returns the worker's State.
func Open(in *pdk.Instance) *State {
	s := &State{in: in}
	return s
}

// Begin binds s to the request c; the phase is PhaseRewrite until
// SetPhase.
func (s *State) Begin(c *proxy.Context) {
	s.c = c
	s.exited = false
	s.SetPhase(PhaseRewrite)
}

// SetPhase sets Kong's phase (and ngx.get_phase()'s answer).
func (s *State) SetPhase(p Phase) {
	s.phase = p
	s.in.Phase = ngxPhase[p]
}

// Exited reports whether a plugin produced the response in this request:
// the host stops running the phase's remaining plugins (Kong's
// delayed_response) and skips the upstream.
func (s *State) Exited() bool { return s.exited }

// End unbinds s from its request (after log).
func (s *State) End() {
	s.c = nil
	s.exited = false
}

// IsExit reports whether err, returned by the host's protected call of a
// phase handler, is ngx.exit (or kong.response.exit outside access)
// ending the handler: not an error.
func IsExit(err error) bool {
	_, ok := luavm.UnwoundWith(err)
	return ok
}
