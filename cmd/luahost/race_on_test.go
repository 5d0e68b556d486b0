//go:build race

package main

// raceEnabled: the race detector adds allocations of its own (and
// sync.Pool drops items at random), so allocation counts are not checked.
const raceEnabled = true
