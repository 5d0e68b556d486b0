package ngx_test

import (
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestSharedDictOps(t *testing.T) {
	in, _ := pdktest.New(t, "lua_shared_dicts", "my_dict 1m, other 5m")
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
		if got := pdktest.Str(t, in, c.src); got != c.want {
			t.Errorf("%s = %q, want %q", c.src, got, c.want)
		}
	}
	now = now.Add(11 * time.Second)
	if got := pdktest.Str(t, in, `return tostring(ngx.shared.my_dict:get("t")) .. " " .. ngx.shared.my_dict:ttl("cnt")`); got != "nil 49" {
		t.Errorf("after 11s: %q", got)
	}
	if got := pdktest.Str(t, in, `local v, _, stale = ngx.shared.my_dict:get_stale("t") return v .. tostring(stale)`); got != "vtrue" {
		t.Errorf("get_stale: %q", got)
	}
	if got := pdktest.Str(t, in, `local d = ngx.shared.my_dict d:expire("cnt", 0) return d:ttl("cnt") .. " " .. tostring(d:expire("nope", 1))`); got != "0 nil" {
		t.Errorf("expire: %q", got)
	}
	if got := pdktest.Str(t, in, `return table.concat(ngx.shared.my_dict:get_keys(0), ",")`); got != "b,cnt,f,n" && got != "b,cnt,n" {
		t.Errorf("get_keys: %q", got)
	}
	if got := pdktest.Str(t, in, `local d = ngx.shared.my_dict d:flush_all() return #d:get_keys()`); got != "0" {
		t.Errorf("flush_all: %q", got)
	}
	if msg := pdktest.LuaErr(t, in, `ngx.shared.my_dict.get("a")`); msg == "" {
		t.Error("dict.get without ':' should raise")
	}
}

// TestSharedDictAcrossWorkers checks one store serves every worker.
func TestSharedDictAcrossWorkers(t *testing.T) {
	in, _ := pdktest.New(t)
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
				if _, err := pdktest.RunErr(wi, "w.lua", `ngx.shared.kong:incr("hits", 1, 0)`); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if got := pdktest.Str(t, in, `return ngx.shared.kong:get("hits")`); got != "400" {
		t.Fatalf("hits = %s, want 400", got)
	}
}

// A dict holds at most its lua_shared_dicts size (issue 14: 5 GB was
// reached): set evicts the least recently used entries and says so
// (forcible), safe_set and safe_add answer "no memory" instead, expired
// entries go first and on flush_expired, capacity and free_space are real.
func TestSharedDictHonoursItsSize(t *testing.T) {
	in, _ := pdktest.New(t, "lua_shared_dicts", "small 64k")
	now := time.Unix(1000, 0)
	in.Root.Now = func() time.Time { return now }
	d := in.Root.SharedDict("small")
	if d.Capacity != 64<<10 {
		t.Fatalf("capacity %d", d.Capacity)
	}
	pdktest.Run(t, in, "fill.lua", `
		local d = ngx.shared.small
		assert(d:capacity() == 65536)
		local v = string.rep("v", 1000)
		local forced = false
		for i = 1, 1000 do
			local ok, err, forcible = d:set("k" .. i, v)
			assert(ok, err)
			if i == 1 then assert(d:get("k1")) end
			forced = forced or forcible
			d:get("k1") -- k1 stays the most recently used
		end
		assert(forced, "a full dict evicts and says so")
		assert(d:get("k1") == v, "the recently used key survives")
		assert(d:get("k2") == nil, "the least recently used key went")
		assert(d:get("k1000") == v)
		assert(d:free_space() < 2000)
		local ok, err, forcible = d:safe_set("new", v)
		assert(ok == false and err == "no memory" and forcible == false, tostring(err))
		ok, err = d:safe_add("new2", v)
		assert(ok == false and err == "no memory", tostring(err))
		ok, err = d:set("huge", string.rep("x", 70000))
		assert(ok == false and err == "no memory", tostring(err))
		-- safe_set may replace what it holds (no room needed)
		assert(d:safe_set("k1", "short"))
	`)
	if used := d.Capacity - d.FreeSpace(); used > d.Capacity {
		t.Fatalf("used %d of %d", used, d.Capacity)
	}
	pdktest.Run(t, in, "ttl.lua", `
		local d = ngx.shared.small
		d:flush_all()
		for i = 1, 30 do assert(d:set("t" .. i, string.rep("t", 1000), 5)) end
	`)
	now = now.Add(10 * time.Second)
	pdktest.Run(t, in, "expired.lua", `
		local d = ngx.shared.small
		-- expired entries make room for safe_set
		for i = 1, 30 do assert(d:safe_set("s" .. i, string.rep("s", 1000))) end
		assert(d:set("e", 1, 1))
	`)
	now = now.Add(2 * time.Second)
	if got := pdktest.Str(t, in, `return ngx.shared.small:flush_expired()`); got == "0" {
		t.Errorf("flush_expired freed nothing")
	}
}
