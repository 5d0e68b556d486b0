// Package admin is luahost's Admin API: Kong's HTTP API for managing
// services, routes, consumers, plugins and the plugins' own entities, on
// admin_listen. The endpoints Kong generates from entity schemas
// (kong/api/endpoints.lua) are Go over kongdb; the Admin API's own routes
// (/, /status, /endpoints, /schemas, /cache, ...) are Go too; a plugin's
// api.lua runs in a host worker (api.go) with kong.api.endpoints bound by
// the Lua shims under host/lua/kong/api/.
//
// Bodies are JSON, form-urlencoded or multipart, decoded as Kong's
// kong/api/arguments.lua does (nested keys, form arrays, values inferred
// from the schema); errors are Kong's bodies and status codes.
//
// It depends on host (for api.lua and the caches) and kongdb; nothing but
// the CLI depends on it.
package admin
