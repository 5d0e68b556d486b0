package router

import (
	"fmt"
	"sync"
	"testing"
)

// Requests keep matching while routers are rebuilt and swapped underneath
// them (run with -race); a failed rebuild keeps the previous router.
func TestVersionedRebuild(t *testing.T) {
	var v Versioned
	if v.Match(get("GET", "/", "h")) != nil {
		t.Fatal("empty holder matched")
	}
	ver, err := v.Rebuild(withSvc(Route{ID: id(1), Paths: []string{"/v1"}}), testServices)
	if err != nil || ver != 1 {
		t.Fatalf("rebuild: %d %v", ver, err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				m := v.Match(get("GET", "/v1/x", "h"))
				if m == nil || m.Route.ID != id(1) {
					t.Error("route 1 lost during rebuilds")
					return
				}
			}
		}()
	}
	for i := 2; i < 50; i++ {
		routes := withSvc(Route{ID: id(1), Paths: []string{"/v1"}}, Route{ID: id(i), Paths: []string{fmt.Sprintf("/n%d", i)}})
		if _, err := v.Rebuild(routes, testServices); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	r, ver := v.Load()
	if ver != 49 || r.Len() != 2 {
		t.Fatalf("version %d, %d matchers", ver, r.Len())
	}
	ver, err = v.Rebuild(withSvc(Route{ID: id(1), Paths: []string{"~/(bad"}}), testServices)
	if err == nil || ver != 49 {
		t.Fatalf("bad rebuild: version %d, err %v", ver, err)
	}
	if m := v.Match(get("GET", "/n49", "h")); m == nil || m.Route.ID != id(49) {
		t.Fatalf("stale router not kept: %+v", m)
	}
}
