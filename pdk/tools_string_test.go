package pdk

import "testing"

// kong.tools.string's splitting functions (Kong 3.10+, kong/tools/string.lua),
// with Kong's results: plugins such as zipkin iterate isplitn.
func TestToolsStringSplitn(t *testing.T) {
	in, _ := newLuaModState(t)
	run(t, in, "setup.lua", `
S = require "kong.tools.string"
show = function(t, n)
  local out = {}
  for i = 1, #t do out[i] = "[" .. t[i] .. "]" end
  return table.concat(out, ",") .. "#" .. tostring(n)
end
iter = function(f, ...)
  local out = {}
  for v in f(...) do out[#out + 1] = "[" .. v .. "]" end
  return table.concat(out, ",")
end`)
	cases := map[string]string{
		`show(S.splitn("a,b,,c", ","))`:                       "[a],[b],[],[c]#4",
		`show(S.splitn(",a,", ","))`:                          "[],[a],[]#3",
		`show(S.splitn("", ","))`:                             "[]#1",
		`show(S.splitn("a,b,c", ",", 2))`:                     "[a],[b,c]#2",
		`show(S.splitn("a,b,c", ",", 1))`:                     "[a,b,c]#1",
		`show(S.splitn("a,b,c", ",", 0))`:                     "#0",
		`show(S.splitn(nil, ","))`:                            "#0",
		`show(S.splitn("a.b", "."))`:                          "[a],[b]#2",
		`show(S.splitn("abc", nil))`:                          "[abc]#1",
		`show(S.splitn("abc", ""))`:                           "[],[a],[b],[c],[]#5",
		`show(S.splitn("abc", "", 3))`:                        "[],[a],[bc]#3",
		`show(S.splitn("a", "", 2))`:                          "[],[a]#2",
		`show(S.splitn("", ""))`:                              "[],[]#2",
		`show(S.psplitn("a1b22c", "%d+"))`:                    "[a],[b],[c]#3",
		`iter(S.isplitn, "foo=bar; baz=qux", ";")`:            "[foo=bar],[ baz=qux]",
		`iter(S.isplitn, "", ";")`:                            "[]",
		`iter(S.isplitn, "x", ";")`:                           "[x]",
		`iter(S.isplitn, nil, ";")`:                           "",
		`iter(S.ipsplitn, "a, b,c", ",%s*")`:                  "[a],[b],[c]",
		`table.concat({S.split_once("k=v=w", "=")}, "|")`:     "k|v=w",
		`table.concat({S.split_once("=v", "=")}, "|")`:        "|v",
		`tostring(select(2, S.split_once("kv", "=")))`:        "nil",
		`table.concat({S.split_once("kv", "")}, "|")`:         "|kv",
		`table.concat({S.psplit_once("a  b c", "%s+")}, "|")`: "a|b c",
		`S.join(", ", {"a", "b"})`:                            "a, b",
	}
	for src, want := range cases {
		if got := str(t, in, "return "+src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}
