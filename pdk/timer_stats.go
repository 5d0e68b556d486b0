package pdk

// kong.timer:stats (lua-resty-timer-ng's shape) of one worker, and of the
// whole node for the Admin API's GET /timers (Root.TimerStats).

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (r *Root) addTimerQueue(q *timerQueue) {
	r.timersMu.Lock()
	if r.timerQueues == nil {
		r.timerQueues = map[*timerQueue]struct{}{}
	}
	r.timerQueues[q] = struct{}{}
	r.timersMu.Unlock()
}

func (r *Root) removeTimerQueue(q *timerQueue) {
	r.timersMu.Lock()
	delete(r.timerQueues, q)
	r.timersMu.Unlock()
}

// TimerStats is kong.timer:stats({ verbose = true, flamegraph = true })
// over every open worker of the node, as a JSON-ready value: sys (running,
// pending, waiting, total, runs), timers by name (name, is_running, meta,
// stats) and flamegraph (running, pending, elapsed_time). In Kong each
// nginx worker answers for its own timers; here the workers are states of
// one process and are reported together. Two workers' timers of one name
// are one entry, running when either is, their counts added. Safe to call
// from any goroutine.
func (r *Root) TimerStats() map[string]any {
	r.timersMu.Lock()
	qs := make([]*timerQueue, 0, len(r.timerQueues))
	for q := range r.timerQueues {
		qs = append(qs, q)
	}
	r.timersMu.Unlock()
	s := newTimerStats()
	now := r.now()
	for _, q := range qs {
		s.add(q, now)
	}
	return s.table(true, true)
}

// timerStats gathers queues' timers.
type timerStats struct {
	running, pending, total, runs int
	jobs                          map[string]*timerJobStats
	flame                         map[string]*flameStat // by callstack
}

type timerJobStats struct {
	running bool
	meta    timerMeta
	stats   timerRunStats
}

// flameStat is one call stack's line in the flamegraph: its jobs running
// and due now, and the seconds its runs took.
type flameStat struct {
	running, pending int
	elapsed          float64
}

func newTimerStats() *timerStats {
	return &timerStats{jobs: map[string]*timerJobStats{}, flame: map[string]*flameStat{}}
}

func (s *timerStats) flameOf(callstack string) *flameStat {
	f := s.flame[callstack]
	if f == nil {
		f = &flameStat{}
		s.flame[callstack] = f
	}
	return f
}

// add reads q's timers as they are at now: due and not running is
// timer-ng's "pending" (expired, waiting for a thread; here for the
// worker), the others "waiting".
func (s *timerStats) add(q *timerQueue, now time.Time) {
	q.statsMu.Lock()
	defer q.statsMu.Unlock()
	s.runs += q.runs
	for cs, sec := range q.flame {
		s.flameOf(cs).elapsed += sec
	}
	for name, t := range q.jobs {
		s.total++
		pending := !t.running && !t.paused && !t.due.After(now)
		switch {
		case t.running:
			s.running++
		case pending:
			s.pending++
		}
		if t.meta.on && (t.running || pending) {
			f := s.flameOf(t.meta.callstack)
			if t.running {
				f.running++
			} else {
				f.pending++
			}
		}
		js := s.jobs[name]
		if js == nil {
			s.jobs[name] = &timerJobStats{running: t.running, meta: t.meta, stats: t.stats}
			continue
		}
		js.running = js.running || t.running
		js.stats.runs += t.stats.runs
		js.stats.finish += t.stats.finish
		if js.stats.lastErr == "" {
			js.stats.lastErr = t.stats.lastErr
		}
	}
}

// table is the stats in Kong's shape: sys, then timers when verbose, then
// flamegraph when flame.
func (s *timerStats) table(verbose, flame bool) map[string]any {
	out := map[string]any{"sys": map[string]any{
		"running": s.running,
		"pending": s.pending,
		"waiting": s.total - s.running - s.pending,
		"total":   s.total,
		"runs":    s.runs,
	}}
	if !verbose {
		return out
	}
	timers := make(map[string]any, len(s.jobs))
	for name, js := range s.jobs {
		st := js.stats
		timers[name] = map[string]any{
			"name":       name,
			"is_running": js.running,
			"meta":       map[string]any{"name": js.meta.name, "callstack": js.meta.callstack},
			"stats": map[string]any{
				"elapsed_time": map[string]any{"avg": st.avg, "max": st.max, "min": st.min, "variance": st.variance},
				"runs":         st.runs,
				"finish":       st.finish,
				"last_err_msg": st.lastErr,
			},
		}
	}
	out["timers"] = timers
	if !flame {
		return out
	}
	stacks := make([]string, 0, len(s.flame))
	for cs := range s.flame {
		stacks = append(stacks, cs)
	}
	sort.Strings(stacks)
	var running, pending, elapsed strings.Builder
	for _, cs := range stacks {
		f := s.flame[cs]
		running.WriteString(cs + " " + strconv.Itoa(f.running) + "\n")
		pending.WriteString(cs + " " + strconv.Itoa(f.pending) + "\n")
		elapsed.WriteString(cs + " " + strconv.FormatInt(int64(math.Floor(f.elapsed*1000)), 10) + "\n")
	}
	out["flamegraph"] = map[string]any{
		"running":      running.String(),
		"pending":      pending.String(),
		"elapsed_time": elapsed.String(),
	}
	return out
}
