package declarative_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/declarative"
	"github.com/luahost/luahost/kongdb/kongdbtest"
)

// versionYML is a configuration of n services, each with two routes, all
// named after version v.
func versionYML(v string, n int) string {
	var b strings.Builder
	b.WriteString("_format_version: \"3.0\"\nservices:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- name: %s-svc-%d\n  url: http://127.0.0.1:9999/\n  routes:\n", v, i)
		fmt.Fprintf(&b, "  - name: %s-a-%d\n    paths: [/%s/a/%d]\n", v, i, v, i)
		fmt.Fprintf(&b, "  - name: %s-b-%d\n    paths: [/%s/b/%d]\n", v, i, v, i)
	}
	return b.String()
}

// On the memory store a replace (declarative_config, POST /config) is
// seen whole by readers: while configurations of 8 and of 13 services
// replace each other, every read of services and of routes finds exactly
// one version's rows, never a mix nor a half-deleted table.
func TestReplaceAtomicForReaders(t *testing.T) {
	db := kongdb.New(kongdbtest.Memory(t), kongdb.DBOptions{})
	t.Cleanup(func() { _ = db.Close() })
	parse := func(v string, n int) *declarative.Config {
		cfg, err := declarative.Parse(ctx, db, []byte(versionYML(v, n)), v+".yml", declarative.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	old, next := parse("old", 8), parse("new", 13)
	if err := old.Replace(ctx, db); err != nil {
		t.Fatal(err)
	}
	// a read's rows are all one version's, and all of them
	check := func(table string, perService int) string {
		rows, _, err := db.DAO(table).Page(ctx, 1000, nil, nil)
		if err != nil {
			return err.Error()
		}
		versions := map[string]int{}
		for _, r := range rows {
			name, _ := r["name"].(string)
			versions[name[:3]]++
		}
		switch {
		case len(versions) == 1 && versions["old"] == 8*perService:
		case len(versions) == 1 && versions["new"] == 13*perService:
		default:
			return fmt.Sprintf("%s: a read saw %v", table, versions)
		}
		return ""
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	bad := make(chan string, 8)
	var reads atomic.Int64
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			table, per := "services", 1
			if i%2 == 1 {
				table, per = "routes", 2
			}
			for !stop.Load() {
				if msg := check(table, per); msg != "" {
					select {
					case bad <- msg:
					default:
					}
					return
				}
				reads.Add(1)
			}
		}(i)
	}
	for i := 0; i < 4; i++ {
		cfg := next
		if i%2 == 1 {
			cfg = old
		}
		if err := cfg.Replace(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(bad)
	for msg := range bad {
		t.Error(msg)
	}
	if msg := check("services", 1); msg != "" || count(t, db, "services") != 8 {
		t.Errorf("after the replaces: %s %d services", msg, count(t, db, "services"))
	}
	t.Logf("%d reads during 4 replaces", reads.Load())
}
