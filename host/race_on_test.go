//go:build race

package host

// raceEnabled: the race detector slows Lua ~10x; long sweeps shrink.
const raceEnabled = true
