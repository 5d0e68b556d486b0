package pdk

import (
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestSharedDictOps(t *testing.T) {
	in, _ := newShimState(t, "lua_shared_dicts", "my_dict 1m, other 5m")
	now := time.Unix(1000, 0)
	in.Root.Now = func() time.Time { return now }
	cases := []struct{ src, want string }{
		{`return type(ngx.shared.kong) .. type(ngx.shared.kong_locks) .. type(ngx.shared.kong_rate_limiting_counters) .. type(ngx.shared.kong_db_cache)`, "userdatauserdatauserdatauserdata"},
		{`return type(ngx.shared.my_dict) .. type(ngx.shared.other) .. type(ngx.shared.nope)`, "userdatauserdatanil"},
		{`local d = ngx.shared.my_dict local ok, err, forcible = d:set("a", "x", 0, 7) local v, f = d:get("a") return tostring(ok) .. tostring(err) .. tostring(forcible) .. v .. f`, "truenilfalsex7"},
		{`local d = ngx.shared.my_dict d:set("n", 1.5) d:set("b", false) local v = d:get("n") return type(v) .. v .. tostring(d:get("b"))`, "number1.5false"},
		{`local ok, err = ngx.shared.my_dict:add("a", "y") return tostring(ok) .. " " .. err`, "false exists"},
		{`local ok, err = ngx.shared.my_dict:replace("zz", "y") return tostring(ok) .. " " .. err`, "false not found"},
		{`return ngx.shared.my_dict:replace("a", "y") and ngx.shared.my_dict:get("a")`, "y"},
		{`local v, err = ngx.shared.my_dict:incr("cnt", 1) return tostring(v) .. " " .. err`, "nil not found"},
		{`local d = ngx.shared.my_dict return d:incr("cnt", 1, 10, 60) .. " " .. d:incr("cnt", 5) .. " " .. d:ttl("cnt")`, "11 16 60"},
		{`local v, err = ngx.shared.my_dict:incr("a", 1) return tostring(v) .. " " .. err`, "nil not a number"},
		{`local d = ngx.shared.my_dict d:set("t", "v", 10) return d:ttl("t") .. " " .. d:ttl("a")`, "10 0"},
		{`local v, err = ngx.shared.my_dict:ttl("missing") return tostring(v) .. " " .. err`, "nil not found"},
		{`local d = ngx.shared.my_dict d:set("a", nil) return tostring(d:get("a"))`, "nil"},
		{`local ok, err = ngx.shared.my_dict:set("f", function() end) return tostring(ok) .. " " .. err`, "false bad value type"},
	}
	for _, c := range cases {
		if got := str(t, in, c.src); got != c.want {
			t.Errorf("%s = %q, want %q", c.src, got, c.want)
		}
	}
	now = now.Add(11 * time.Second)
	if got := str(t, in, `return tostring(ngx.shared.my_dict:get("t")) .. " " .. ngx.shared.my_dict:ttl("cnt")`); got != "nil 49" {
		t.Errorf("after 11s: %q", got)
	}
	if got := str(t, in, `local v, _, stale = ngx.shared.my_dict:get_stale("t") return v .. tostring(stale)`); got != "vtrue" {
		t.Errorf("get_stale: %q", got)
	}
	if got := str(t, in, `local d = ngx.shared.my_dict d:expire("cnt", 0) return d:ttl("cnt") .. " " .. tostring(d:expire("nope", 1))`); got != "0 nil" {
		t.Errorf("expire: %q", got)
	}
	if got := str(t, in, `return table.concat(ngx.shared.my_dict:get_keys(0), ",")`); got != "b,cnt,f,n" && got != "b,cnt,n" {
		t.Errorf("get_keys: %q", got)
	}
	if got := str(t, in, `local d = ngx.shared.my_dict d:flush_all() return #d:get_keys()`); got != "0" {
		t.Errorf("flush_all: %q", got)
	}
	if msg := luaErr(t, in, `ngx.shared.my_dict.get("a")`); msg == "" {
		t.Error("dict.get without ':' should raise")
	}
}

// TestSharedDictAcrossWorkers checks one store serves every worker.
func TestSharedDictAcrossWorkers(t *testing.T) {
	in, _ := newShimState(t)
	root := in.Root
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			L := lua.NewState()
			defer L.Close()
			wi := root.Open(L, id)
			for i := 0; i < 100; i++ {
				if _, err := runErr(wi, "w.lua", `ngx.shared.kong:incr("hits", 1, 0)`); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if got := str(t, in, `return ngx.shared.kong:get("hits")`); got != "400" {
		t.Fatalf("hits = %s, want 400", got)
	}
}
