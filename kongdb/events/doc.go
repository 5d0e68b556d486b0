// Package events carries events between workers and between nodes, as Kong
// does (KONG-REFERENCE §7): Bus is kong.worker_events (lua-resty-events'
// surface: register, post to every worker, post_local to one), with one
// Inbox per worker that the host drains before running Lua, plus Go
// subscribers; ClusterEvents is kong.cluster_events over Kong's
// cluster_events table, polled the way Kong polls it and woken at once by
// PostgreSQL LISTEN/NOTIFY, with an in-process hub for the memory strategy.
//
// Like all of kongdb it never imports gopher-lua: event data crossing
// workers must be plain Go values (the pdk serializes Lua tables).
package events
