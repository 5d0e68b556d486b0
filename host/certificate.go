package host

import (
	"fmt"

	"github.com/luahost/luahost/pdk/request"
	"github.com/luahost/luahost/proxy"
)

// Certificate is Kong's certificate phase (kong/init.lua
// Kong.ssl_certificate, proxy.Config.Certificate): during each TLS
// handshake of an ssl listener, the certificate handlers of the plugins
// configured globally (no route, service or consumer, default workspace:
// plugins_iterator.lua's globals, NON_COLLECTING_PHASES), in priority
// order, with a fresh ngx.ctx that no request sees afterwards (Kong
// clears it). A Lua error stops the phase and fails the handshake, logged
// naming plugin and phase (nginx logs ssl_certificate_by_lua's error and
// aborts the handshake); ngx.exit ends the phase, and fails the handshake
// unless its status is ngx.OK.
//
// The handshake borrows a worker as a request does (attach), for this
// phase only.
func (r *Runloop) Certificate(h *proxy.Handshake) error {
	it := r.cur.Load()
	list := globalList(it, phCertificate)
	if len(list) == 0 {
		return nil
	}
	w, poisoned, err := r.attachFor(it)
	if err != nil {
		r.h.Logger.Error("no worker for the TLS handshake", "err", err)
		return err
	}
	if poisoned {
		r.h.Logger.Error("no worker for the TLS handshake: configure failed")
		return fmt.Errorf("no worker for the TLS handshake")
	}
	s := r.states.Get().(*reqState)
	s.it, s.w = it, w
	s.ctx.Reset()
	w.In.AttachCtx(&s.ctx)
	w.req.BeginHandshake(s.req, h)

	var failed error
	for _, e := range list {
		lp := w.plugins[e.p.slot]
		fn := lp.fns[phCertificate]
		if fn == nil {
			continue
		}
		conf := s.conf(e.cfg)
		w.In.SetPluginName(e.p.desc.Name)
		w.In.CtxSet(keyPluginID, e.cfg.idL)
		err := w.call(fn, 0, lp.handler, conf)
		w.In.SetPluginName("")
		if err == nil {
			continue
		}
		if status, ok := request.ExitStatus(err); ok {
			if status != 0 {
				failed = fmt.Errorf("plugin '%s' (certificate): ngx.exit(%d)", e.p.desc.Name, status)
			}
			break
		}
		le := w.errorOf(e.p.desc.Name, phaseNames[phCertificate], err)
		r.h.Logger.Error(le.Error())
		failed = le
		break
	}

	w.req.EndHandshake()
	w.In.DetachCtx()
	r.h.Pool.detach(w)
	r.h.Pool.unlock(w)
	s.recycle(nil)
	return failed
}
