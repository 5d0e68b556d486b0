package pdk

// The worker side of the node's event bus (kongdb/events.Bus) behind
// kong.worker_events: each worker has an Inbox that it drains before it
// runs Lua (Drain) and on poll(). Data crossing workers travels as the Go
// value model (kongdb/schema); CRUD events travel as *kongdb.CrudEvent and
// become Lua tables in the worker that handles them.

import (
	"math"
	"strconv"
	"sync/atomic"

	"github.com/luahost/luahost/kongdb/events"
)

// noWorker is a worker id no inbox has: Bus.PostLocal to it reaches the Go
// handlers only (the worker's own Lua callbacks run directly).
const noWorker = math.MinInt32

// ensureBus builds Root.Events when the host did not.
func (r *Root) ensureBus() *events.Bus {
	r.busOnce.Do(func() {
		if r.Events == nil {
			r.Events = events.NewBus(events.BusConfig{Logger: r.Logger, Now: r.Now})
		}
	})
	return r.Events
}

// crudSeq makes each CRUD event of a write outside the workers its own
// "unique" post, so the bus hands it to exactly one worker.
var crudSeq atomic.Uint64

func nextCrudUnique() string { return "luahost:crud:" + strconv.FormatUint(crudSeq.Add(1), 10) }
