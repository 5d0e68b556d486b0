package schema

import "github.com/luahost/luahost/luapattern"

// LuaMatch reports whether Lua's string.match(s, pattern) finds a match, as
// the match, not_match, match_all, match_none and match_any validators
// need: Kong runs value:match(pattern), not a regular expression. A
// malformed pattern is an error with Lua's message.
func LuaMatch(s, pattern string) (bool, error) {
	return luapattern.Match(s, pattern)
}
