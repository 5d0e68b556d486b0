package kongdb_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/luahost/luahost/kongdb"
)

// TestConcurrentUse hammers one memory DB from many goroutines: inserts,
// unique lookups, pages, updates and deletes, with cascades. Run it with
// -race. Each writer owns its usernames, so every outcome is checkable.
func TestConcurrentUse(t *testing.T) {
	db, _ := memDB(t)
	must[*kongdb.DAO](t)(db.Register(keyauth()))
	c := db.DAO("consumers")
	ka := db.DAO("keyauth_credentials")
	const workers, per = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*4)
	for w := 0; w < workers; w++ {
		wg.Add(2)
		go func(w int) { // writer
			defer wg.Done()
			for i := 0; i < per; i++ {
				name := fmt.Sprintf("w%d-u%d", w, i)
				cons, err := c.Insert(ctx, M{"username": name}, nil)
				if err != nil {
					errs <- err
					return
				}
				if _, err := ka.Insert(ctx, M{"key": name, "consumer": M{"id": cons["id"]}}, nil); err != nil {
					errs <- err
					return
				}
				if _, err := c.Update(ctx, cons, M{"custom_id": name}, nil); err != nil {
					errs <- err
					return
				}
				if i%2 == 0 {
					if _, err := c.Delete(ctx, cons, nil); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
		go func(w int) { // reader
			defer wg.Done()
			for i := 0; i < per*2; i++ {
				if _, err := c.SelectBy(ctx, "username", fmt.Sprintf("w%d-u%d", (w+1)%workers, i%per), nil); err != nil {
					errs <- err
					return
				}
				if _, _, err := ka.Page(ctx, 10.0, nil, nil); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// every odd consumer and its credential survive; even ones cascaded away
	n := 0
	it := must[func(func(kongdb.Row, error) bool)](t)(eachSeq(ka.Each(ctx, 7.0, nil)))
	for r, err := range it {
		if err != nil {
			t.Fatal(err)
		}
		n++
		cons := must[kongdb.Row](t)(c.Select(ctx, r["consumer"], nil))
		if cons == nil || cons["custom_id"] != r["key"] {
			t.Fatalf("credential %v: consumer %v", r["key"], cons)
		}
	}
	eq(t, n, workers*per/2)
}
