package kongdb_test

import (
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb"
)

// A DB's QueryObserver hears of every storage call, by connector and
// operation; unset, nothing is reported.
func TestQueryObserver(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		var mu sync.Mutex
		seen := map[string]int{}
		db.SetQueryObserver(func(strategy, op string, d time.Duration) {
			mu.Lock()
			seen[strategy+"/"+op]++
			mu.Unlock()
			if d < 0 {
				t.Errorf("negative duration %v", d)
			}
		})
		c, err := db.DAO("consumers").Insert(ctx, M{"username": "obs"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.DAO("consumers").Select(ctx, M{"id": c["id"]}, nil); err != nil {
			t.Fatal(err)
		}
		s := db.Strategy()
		mu.Lock()
		if seen[s+"/insert"] < 1 || seen[s+"/select"] < 1 {
			t.Errorf("seen %v", seen)
		}
		selects := seen[s+"/select"]
		mu.Unlock()
		db.SetQueryObserver(nil)
		if _, err := db.DAO("consumers").Select(ctx, M{"id": c["id"]}, nil); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if seen[s+"/select"] != selects {
			t.Errorf("observed after unset: %v", seen)
		}
		mu.Unlock()
	})
}
