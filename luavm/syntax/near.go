package syntax

// maxNear bounds the token text quoted in a message. PUC Lua 5.1 quotes the
// whole token, so a 50 MB unfinished line would be echoed whole; longer
// texts are cut to maxNear bytes and end in "...", in the spirit of
// LUA_IDSIZE (60), which bounds chunk names the same way.
const maxNear = 60

// nearText renders token t as Lua 5.1 shows it after "near": names and
// numbers as written, strings as read (a short string with its escapes
// decoded, a long one with its first line break dropped and line breaks as
// \n), other tokens by name. Like Lua, which prints a C string, it stops at
// a NUL byte.
func nearText(src []byte, t token) string {
	switch t.kind {
	case tkName, tkNumber:
		return clip(src[t.start:t.end], false)
	case tkString:
		if t.long {
			return clip(renderLong(src[t.start:t.end]), false)
		}
		return renderShort(src[t.start:t.end])
	}
	return tokenString(t.kind)
}

// clip cuts b at a NUL byte and to maxNear bytes.
func clip(b []byte, more bool) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			more = false
			break
		}
	}
	if len(b) > maxNear {
		return string(b[:maxNear]) + "..."
	}
	if more {
		return string(b) + "..."
	}
	return string(b)
}

// renderLong renders the text of a long string (or of an invalid long
// bracket, "[==").
func renderLong(s []byte) []byte {
	i := 1
	for i < len(s) && s[i] == '=' {
		i++
	}
	if i >= len(s) || s[i] != '[' {
		return s
	}
	i++
	out := append(make([]byte, 0, maxNear+1), s[:min(i, maxNear+1)]...)
	if i < len(s) && isNewline(s[i]) {
		i = skipNewline(s, i)
	}
	for i < len(s) && len(out) <= maxNear {
		if isNewline(s[i]) {
			out = append(out, '\n')
			i = skipNewline(s, i)
			continue
		}
		out = append(out, s[i])
		i++
	}
	return out
}

func skipNewline(s []byte, i int) int {
	c := s[i]
	i++
	if i < len(s) && isNewline(s[i]) && s[i] != c {
		i++
	}
	return i
}

// renderShort renders a quoted string, s being its text from the opening
// quote to the closing one, or to where reading stopped when unfinished.
func renderShort(s []byte) string {
	del := s[0]
	out := []byte{del}
	i := 1
	closed := false
	for i < len(s) && len(out) <= maxNear {
		c := s[i]
		if c == del && i == len(s)-1 {
			closed = true
			break
		}
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		e := s[i]
		switch e {
		case 'a':
			out = append(out, '\a')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case '\n', '\r':
			out = append(out, '\n')
			i = skipNewline(s, i)
			continue
		default:
			if isDigit(e) {
				v := 0
				for k := 0; k < 3 && i < len(s) && isDigit(s[i]); k++ {
					v = v*10 + int(s[i]-'0')
					i++
				}
				out = append(out, byte(v))
				continue
			}
			out = append(out, e)
		}
		i++
	}
	if closed {
		out = append(out, del)
	}
	return clip(out, false)
}
