// Package cache is the node-wide L2 of kong.cache (lua-resty-mlcache as
// Kong configures it, KONG-REFERENCE §6): one freecache shared by all
// workers holding serialized values, a second one for cached nils (Kong's
// *_miss shm), a per-key single flight so a cold key runs its loader once
// across all workers, expiry with sub-second precision, stale-value
// resurrection, and hooks that fan invalidations out to every worker's L1.
//
// Values are stored in a compact binary codec (Encoder / Decoder) built to be
// driven straight from Lua values by the pdk, without an intermediate Go
// tree; Marshal / Unmarshal cover the Go value model of kongdb/schema.
//
// Like the rest of kongdb it never imports gopher-lua: the L1 (Lua values)
// lives in pdk and talks to this package through Encoder, Decoder, Loader and
// the OnInvalidate / OnPurge hooks.
package cache
