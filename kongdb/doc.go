// Package kongdb is luahost's data layer: Kong's DAO over a storage strategy
// (memory, the embedded default, or postgres), Kong's error codes and
// messages, cache keys, pagination, CRUD events, migrations and the cache.
//
// It must never import gopher-lua: where Lua is needed (a custom_validator,
// a migration's teardown) it takes an interface (schema.FuncRunner, ...)
// that the host implements. TestNoLua keeps it so.
package kongdb
