package host

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// warmCache is Kong's cache warmup (kong/cache/warmup.lua, run by
// Kong.init_worker): on worker 0 of a node with a database, the entities
// named by db_cache_warmup_entities are read into the cache before the
// plugins' init_worker. DB-less nodes skip it, as Kong's do. A failure is
// logged ("failed to warm up the DB cache"), the worker goes on.
func (h *Host) warmCache(w *Worker) {
	if w.ID != 0 || h.Root.DB == nil || strings.EqualFold(h.Conf.Get("database"), "off") {
		return
	}
	names := h.Conf.List("db_cache_warmup_entities")
	if len(names) == 0 {
		return
	}
	list := w.L.NewTable()
	for _, n := range names {
		list.Append(lua.LString(n))
	}
	mod, err := w.requireIn("luahost.cache_warmup")
	if err == nil {
		t, _ := mod.(*lua.LTable)
		if t == nil {
			return
		}
		err = w.call(t.RawGetString("run"), 0, list)
	}
	if err != nil {
		h.Logger.Error("failed to warm up the DB cache", "worker", w.ID, "err", err.Error())
	}
}
