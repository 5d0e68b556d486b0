package schema

// ASCII character classes, as C's ctype in the "C" locale (Kong's
// validators run in LuaJIT, whose patterns and checks use it).

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isXDigit(c byte) bool {
	return isDigit(c) || ((c|0x20) >= 'a' && (c|0x20) <= 'f')
}
