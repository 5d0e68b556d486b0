package pdk

import (
	"strings"
	"testing"
)

// cyclesLua defines, for the tests below, a table holding itself (cyc), a
// chain of tables nested 1000 deep (deep) and a chain of 40 diamonds
// (dag: a table reached 2^40 ways, no cycle).
const cyclesLua = `
local cyc = { 1, "x" } cyc[3] = cyc cyc.self = cyc
local deep = { 1 } for _ = 1, 1000 do deep = { deep, k = "v" } end
local leaf = { s = "leaf" }
local dag = leaf for _ = 1, 40 do dag = { a = dag, b = dag } end
`

// The Go walks behind kong.* never recurse without bound on a table that
// holds itself or is nested deep: each ends as the real component does,
// with a Lua error or a clear result, instead of a Go stack overflow
// that kills the process or a walk of 2^40 steps.
func TestCyclicTablesAtTheBindings(t *testing.T) {
	in, _ := newDBState(t)
	cases := []struct{ name, src, want string }{
		// Kong's is_valid_value refuses a table met twice (cycle or shared)
		// and does so in one step per table
		{"kong.log.set_serialize_value", `
			local r = {}
			for _, v in ipairs({ cyc, deep, dag, { a = leaf, b = leaf }, { a = { b = { "ok" } } } }) do
				r[#r + 1] = tostring((pcall(kong.log.set_serialize_value, "k", v)))
			end
			return table.concat(r, ",")`,
			"false,false,false,false,true"},
		// Schema.new copies its definition with Kong's cycle_aware_deep_copy:
		// a table shared by two fields is one table in the copy
		{"Schema.new", `
			local core = require "luahost.schema"
			local shared = { type = "string" }
			local s = assert(core.new({ name = "shared", fields = { { a = shared }, { b = shared } } }))
			local fields = { { a = { type = "string" } } } fields[1].a.self = fields
			local s2, err = core.new({ name = "cyclic", fields = fields })
			return s.fields.a == s.fields.b, s.fields.a ~= shared, s2, err:match("nested too deeply") or err`,
			"true true nil nested too deeply"},
		// a DAO's entity and options are converted with a depth and size bound
		{"kong.db insert/update", `
			local dao = kong.db.keyauth_credentials
			local r = {}
			for _, v in ipairs({ cyc, deep, dag }) do
				local ok, err = pcall(dao.insert, dao, { key = "k", extra = v })
				r[#r + 1] = tostring(ok) .. ":" .. (tostring(err):match("nested too deeply") or tostring(err):match("too large") or tostring(err))
				ok, err = pcall(dao.update, dao, { id = "4f8b3c2e-1d0a-4a3b-9c1e-2f3a4b5c6d7e" }, { key = "k" }, v)
				r[#r + 1] = tostring(ok) .. ":" .. (tostring(err):match("nested too deeply") or tostring(err):match("too large") or tostring(err))
			end
			return table.concat(r, ",")`,
			"false:nested too deeply,false:nested too deeply,false:nested too deeply,false:nested too deeply," +
				"false:too large,false:too large"},
		// lua-cjson's own nesting limit
		{"cjson.encode", `
			local cjson = require "cjson.safe"
			return select(2, cjson.encode(cyc)), select(2, cjson.encode(deep))`,
			"Cannot serialise, excessive nesting (1001) Cannot serialise, excessive nesting (1001)"},
		// Kong's vault walk is a recursive Lua function: Lua's stack overflow
		{"kong.vault.update", `
			local ok1, e1 = pcall(kong.vault.update, cyc)
			local ok2, e2 = pcall(kong.vault.update, deep)
			return ok1, e1:match("stack overflow"), ok2, e2:match("stack overflow")`,
			"false stack overflow false stack overflow"},
	}
	// inspect.lua cuts cycles, and marks what is past its depth "{...}"
	t.Run("kong.log.inspect", func(t *testing.T) {
		vals := run(t, in, "test.lua", cyclesLua+`kong.log.inspect(cyc, deep, dag) return cyc, deep`)
		s1, s2 := Inspect(vals[0]), Inspect(vals[1])
		if !strings.Contains(s1, "<cycle>") || strings.Count(s2, "{...}") != 1 || len(s2) > 1<<20 {
			t.Errorf("inspect: %q, %d bytes with %d {...}", s1, len(s2), strings.Count(s2, "{...}"))
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(results(t, in, cyclesLua+c.src), " ")
			if got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
