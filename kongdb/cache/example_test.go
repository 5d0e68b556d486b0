package cache_test

import (
	"context"
	"fmt"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb/cache"
	"github.com/luahost/luahost/kongdb/events"
)

// Wiring a node: one L2 per Kong cache instance, invalidations broadcast to
// and received from other nodes through cluster events.
func Example() {
	ctx := context.Background()
	hub := events.NewMemoryHub(nil) // events.NewPostgres(ctx, pool, listenCfg, cfg) with a database
	ce, err := events.NewMemory(ctx, hub, events.ClusterConfigFrom(conf.New(), "5f1a7c1e-0d7b-4f34-9a55-0a3c2c1d9e10"))
	if err != nil {
		panic(err)
	}
	defer ce.Close()

	cfg := cache.ConfigFrom(conf.New())
	cfg.Cluster = ce
	c := cache.New(cfg)
	c.SubscribeCluster(ce) // other nodes' invalidations -> Delete here

	// Each worker: a reusable loader and buffer; an L1 hook.
	c.OnInvalidate(func(key string) { /* post key to the worker's inbox; it drops it from L1 */ })
	load := cache.LoaderFunc(func(e *cache.Encoder) (cache.TTLOverride, error) {
		// run the plugin's callback, encode what it returned
		e.Table(0, 1, 0)
		e.String("username")
		e.String("alice")
		return cache.TTLOverride{}, nil
	})
	var buf []byte
	r, _ := c.GetOrLoad(ctx, "consumers:alice", nil, load, buf)
	fmt.Println("first get, hit level", r.Hit)
	r, _ = c.GetOrLoad(ctx, "consumers:alice", nil, load, r.Buf[:0])
	v, _ := cache.Unmarshal(r.Value)
	fmt.Println("second get, hit level", r.Hit, v)

	c.Invalidate(ctx, "consumers:alice") // local L2 + L1 hooks + cluster event
	_, found, _ := c.GetValue("consumers:alice")
	fmt.Println("after invalidate, cached:", found)
	// Output:
	// first get, hit level 3
	// second get, hit level 2 map[username:alice]
	// after invalidate, cached: false
}
