package host

import lua "github.com/yuin/gopher-lua"

// Call runs fn(args...) in the worker under its deadline, leaving nret
// results on the stack, as the host runs plugin code: for Go code beside
// the host that runs Lua in a borrowed worker (the Admin API runs plugins'
// api.lua this way). Errors are *lua.ApiError or *TimeoutError.
func (w *Worker) Call(fn lua.LValue, nret int, args ...lua.LValue) error {
	return w.call(fn, nret, args...)
}

// Require is require(name) in the worker, under its deadline.
func (w *Worker) Require(name string) (lua.LValue, error) {
	return w.requireIn(name)
}
