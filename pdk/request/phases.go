package request

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// kongPhaseOrder is Kong's phases in the order of their bits
// (private/phases.lua), the order its messages list them in.
var kongPhaseOrder = []struct {
	p    Phase
	name string
}{
	{PhaseInitWorker, "init_worker"}, {PhaseCertificate, "certificate"},
	{PhaseRewrite, "rewrite"}, {PhaseAccess, "access"}, {PhaseBalancer, "balancer"},
	{PhaseResponse, "response"}, {PhaseClusterListener, "cluster_listener"},
	{PhaseHeaderFilter, "header_filter"}, {PhaseBodyFilter, "body_filter"},
	{PhaseLog, "log"}, {PhasePreread, "preread"}, {PhaseError, "error"},
	{PhaseAdminAPI, "admin_api"},
}

// The phase sets Kong's PDK checks against.
const (
	// phasesRequest is PHASES.request.
	phasesRequest = PhaseRewrite | PhaseAccess | PhaseBalancer | PhaseResponse | PhaseHeaderFilter |
		PhaseBodyFilter | PhaseLog | PhaseError | PhaseAdminAPI | PhaseClusterListener
	// beforeContent is kong.request's get_raw_body / get_body set.
	beforeContent = PhaseRewrite | PhaseAccess | PhaseResponse | PhaseError | PhaseAdminAPI
	// headerBodyLog is kong.response's getters.
	headerBodyLog = PhaseResponse | PhaseHeaderFilter | PhaseBodyFilter | PhaseLog | PhaseError | PhaseAdminAPI
	// rewriteAccessHeader is kong.response's setters and exit.
	rewriteAccessHeader = PhaseRewrite | PhaseAccess | PhaseResponse | PhaseBalancer | PhaseHeaderFilter |
		PhaseError | PhaseAdminAPI
	// serviceHeaderBodyLog is kong.service.response's getters.
	serviceHeaderBodyLog = PhaseResponse | PhaseHeaderFilter | PhaseBodyFilter | PhaseLog
	accessAndRewrite     = PhaseRewrite | PhaseAccess
	accessRewriteBal     = PhaseRewrite | PhaseAccess | PhaseBalancer
	preReadAndBalancer   = PhasePreread | PhaseBalancer
	serviceTarget        = PhaseRewrite | PhaseAccess | PhaseBalancer | PhasePreread
	// authAndLater is kong.client's and kong.router's set.
	authAndLater = PhaseAccess | PhaseHeaderFilter | PhaseResponse | PhaseBodyFilter | PhaseLog
	// phasesWithCtx is kong.log.set_serialize_value's set.
	phasesWithCtx = PhaseRewrite | PhaseAccess | PhaseHeaderFilter | PhaseResponse | PhaseBodyFilter | PhaseLog
)

func phaseNames(set Phase) string {
	var b strings.Builder
	for _, e := range kongPhaseOrder {
		if set&e.p != 0 {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.name)
		}
	}
	return b.String()
}

func phaseName(p Phase) string {
	for _, e := range kongPhaseOrder {
		if e.p == p {
			return e.name
		}
	}
	return "'unknown phase'"
}

// current is Kong's ctx.KONG_PHASE: the request's phase, init_worker or
// the Admin API outside one, 0 (none) elsewhere (timers, init).
func (s *State) current() Phase {
	if s.c != nil || s.hs != nil {
		return s.phase
	}
	switch s.in.Phase {
	case "init_worker":
		return PhaseInitWorker
	case "content":
		return PhaseAdminAPI
	}
	return 0
}

// check is Kong's phase_checker.check(allowed).
func (s *State) check(L *lua.LState, allowed Phase) {
	cur := s.current()
	if cur&allowed != 0 {
		return
	}
	if cur == 0 {
		raise(L, "no phase in ngx.ctx.KONG_PHASE, (need one of "+phaseNames(allowed)+")")
	}
	raise(L, "function cannot be called in "+phaseName(cur)+" phase (only in: "+phaseNames(allowed)+")")
}

// checkNot is Kong's phase_checker.check_not(rejected).
func (s *State) checkNot(L *lua.LState, rejected Phase) {
	cur := s.current()
	if cur == 0 {
		raise(L, "no phase in ngx.ctx.KONG_PHASE")
	}
	if cur&rejected == 0 {
		return
	}
	raise(L, "function cannot be called in "+phaseName(cur)+" phase (can be called in any phases except: "+
		phaseNames(rejected)+")")
}

// checkContext is lua-nginx-module's context check (not Kong's phase
// check): "API disabled in the context of <directive>" when the worker's
// context, as ngx.get_phase() names it, is outside allowed.
func (s *State) checkContext(L *lua.LState, allowed bind.Contexts) {
	if msg := bind.ContextDisabled(s.in.Phase, allowed); msg != "" {
		raise(L, msg)
	}
}
