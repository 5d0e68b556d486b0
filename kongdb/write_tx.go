package kongdb

import "context"

// On PostgreSQL a write and the cluster invalidation of the entities it
// changes commit together: the DAO runs the strategy call and the
// pre-commit part of its CRUD events (the cluster_events rows) in one
// transaction, so a node dying between the two cannot leave other nodes
// stale (Kong/kong#8176; Kong itself broadcasts after the write). The rest
// of the events (local invalidation, worker events) runs after commit.

// TxRunner is a connector that runs a function in one transaction, every
// call made with the context it is given joining it (postgres.Connector).
type TxRunner interface {
	Tx(ctx context.Context, fn func(ctx context.Context) error) error
}

// PreCommitter is the part of an EventHandler that runs inside the write's
// transaction (broadcasting invalidations to other nodes).
type PreCommitter interface {
	PreCommit(ctx context.Context, ev *CrudEvent) error
}

type preCommitKey struct{}
type clusterDoneKey struct{}

// InPreCommit reports whether ctx is the pre-commit phase of a write.
func InPreCommit(ctx context.Context) bool {
	v, _ := ctx.Value(preCommitKey{}).(bool)
	return v
}

// ClusterBroadcastDone reports whether the write's events were already
// broadcast to other nodes inside its transaction: post-commit handlers
// then only invalidate locally.
func ClusterBroadcastDone(ctx context.Context) bool {
	v, _ := ctx.Value(clusterDoneKey{}).(bool)
	return v
}

// writeTx runs write, which returns the events it will post (op, entity,
// old entity). On a TxRunner whose event handler is a PreCommitter, write
// and the pre-commit part of those events run in one transaction, and the
// returned context marks the broadcast done. A failing broadcast fails the
// write.
func (d *DAO) writeTx(ctx context.Context, o *Options, write func(ctx context.Context) ([]pendingEvent, error)) (context.Context, error) {
	pc, okH := d.db.eventHandler().(PreCommitter)
	tr, okT := d.db.conn.(TxRunner)
	if !okH || !okT || (o != nil && o.NoBroadcastCrud) || InPreCommit(ctx) {
		_, err := write(ctx)
		return ctx, err
	}
	err := tr.Tx(ctx, func(txctx context.Context) error {
		evs, err := write(txctx)
		if err != nil {
			return err
		}
		pctx := context.WithValue(txctx, preCommitKey{}, true)
		for _, e := range evs {
			if err := pc.PreCommit(pctx, e.dao.newCrudEvent(e.op, e.entity, e.old, o)); err != nil {
				return d.Errors.DatabaseError(err.Error(), err)
			}
		}
		return nil
	})
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, clusterDoneKey{}, true), nil
}

// pendingEvent is one event a write will post, by the DAO that posts it
// (a cascaded child's own DAO).
type pendingEvent struct {
	dao         *DAO
	op          string
	entity, old Row
}

// Isolator is a connector that can run a function whose writes, made with
// the context it is given, readers outside it see only once it returns,
// all together (memory.Connector: a whole declarative configuration
// replaced at once, as Kong DB-less swaps it).
type Isolator interface {
	Isolated(ctx context.Context, fn func(ctx context.Context) error) error
}
