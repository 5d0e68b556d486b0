package host

import (
	lua "github.com/yuin/gopher-lua"
)

// installLegacyHooks subscribes the enabled plugins' hooks.lua (Kong <= 0.10)
// to the DAO's writes in worker w, through host/lua/luahost/legacy_hooks.lua:
// nothing is installed when no plugin has one. A hooks.lua that fails to
// load fails the worker as a broken handler would.
func (h *Host) installLegacyHooks(w *Worker) *LoadError {
	var with string
	names := w.L.NewTable()
	for _, lp := range w.plugins {
		names.Append(lua.LString(lp.desc.Name))
		if with == "" && w.moduleExists("kong.plugins."+lp.desc.Name+".hooks") {
			with = lp.desc.Name
		}
	}
	if with == "" {
		return nil
	}
	mod, err := w.requireIn("luahost.legacy_hooks")
	if err == nil {
		t, _ := mod.(*lua.LTable)
		if t == nil {
			return nil
		}
		err = w.call(t.RawGetString("register"), 0, names)
	}
	if err != nil {
		return w.errorOf(with, "hooks", err)
	}
	return nil
}
