package pcre

import (
	"regexp"
	"strconv"
	"strings"
)

// translation is what one pass over a PCRE pattern finds and makes.
type translation struct {
	// goSrc is the pattern for Go's regexp: names dropped, `\Z` as `\z`
	// (endNL says the difference matters), PCRE's escapes Go lacks
	// spelled out; bt is the same for regexp2 in RE2 mode, where `$` and
	// `\Z` keep PCRE's meaning through a lookahead.
	goSrc, btSrc string
	// names[i] is capture group i's name ("" unnamed); names[0] = "".
	names []string
	// endNL: the pattern has a `$` (not multi-line) or `\Z`, which PCRE
	// also matches before a final newline and Go does not.
	endNL bool
	// lookBack: the pattern has an assertion that looks before the match
	// (`^`, `\b`, `\B`, `\A`, `\G`), so matching from an offset needs the
	// text before it.
	lookBack bool
}

// errAt is a compile error at an offset of the pattern.
type errAt struct {
	msg string
	at  int
}

func (e *errAt) Error() string { return e.msg }

// translate rewrites a PCRE pattern for Go's regexp and for regexp2: it
// drops `(?#...)` comments and, in extended mode, whitespace and `#`
// comments; turns named groups into plain ones (their names are kept
// aside, so duplicates under dupNames number as PCRE numbers them) and
// named back references into numbered ones.
func translate(src string, f Flags) (*translation, error) {
	t := &translation{names: []string{""}}
	var g, b strings.Builder // Go's, regexp2's
	both := func(s string) { g.WriteString(s); b.WriteString(s) }
	ext, multi := f.Extended, f.Multiline
	// first pass: group names, for back references written before the group
	names := map[string][]int{}
	n := len(src)
	for i := 0; i < n; i++ {
		c := src[i]
		switch {
		case c == '\\' && i+1 < n:
			if src[i+1] == 'Q' { // \Q...\E
				if e := strings.Index(src[i+2:], `\E`); e >= 0 {
					i += e + 3
				} else {
					i = n
				}
				continue
			}
			i++
		case c == '[':
			i = classEnd(src, i) - 1
		case c == '#' && f.Extended:
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '(':
			if i+1 < n && src[i+1] == '?' {
				if name, _, ok := groupName(src, i); ok {
					t.names = append(t.names, name)
					if _, dup := names[name]; dup && !f.DupNames {
						return nil, &errAt{"two named subpatterns have the same name", i}
					}
					names[name] = append(names[name], len(t.names)-1)
				}
				continue
			}
			if i+1 < n && src[i+1] == '*' { // (*VERB)
				continue
			}
			t.names = append(t.names, "")
		}
	}
	ref := func(name string, at int) (string, error) {
		idx, ok := names[name]
		if !ok {
			return "", &errAt{"reference to non-existent subpattern", at}
		}
		return strconv.Itoa(idx[0]), nil
	}
	for i := 0; i < n; i++ {
		c := src[i]
		switch {
		case c == '\\':
			if i+1 >= n {
				return nil, &errAt{`\ at end of pattern`, i}
			}
			e := src[i+1]
			switch e {
			case 'Q':
				end := strings.Index(src[i+2:], `\E`)
				lit := src[i+2:]
				if end >= 0 {
					lit = lit[:end]
					i += end + 3
				} else {
					i = n
				}
				both(regexp.QuoteMeta(lit))
				continue
			case 'E':
				i++
				continue
			case 'Z':
				t.endNL = true
				g.WriteString(`\z`)
				b.WriteString(`(?=\n?\z)`)
			case 'b', 'B', 'A', 'G':
				t.lookBack = true
				both(src[i : i+2])
			case 'h':
				both(`[\t \xA0]`)
			case 'H':
				both(`[^\t \xA0]`)
			case 'v':
				both(`[\n\x0B\f\r\x85]`)
			case 'V':
				both(`[^\n\x0B\f\r\x85]`)
			case 'R':
				both(`(?:\r\n|[\n\x0B\f\r\x85])`)
			case 'N':
				both(`[^\n]`)
			case 'K':
				return nil, &errAt{`\K is not supported`, i}
			case 'k', 'g':
				// \k<name> \k'name' \k{name} \g{name} \g{N} \gN
				name, l := refName(src[i+2:])
				if l == 0 {
					both(src[i : i+2])
					break
				}
				num := name
				if name[0] == '-' || name[0] == '+' {
					return nil, &errAt{"relative back references are not supported", i}
				}
				if _, err := strconv.Atoi(name); err != nil {
					var err error
					if num, err = ref(name, i); err != nil {
						return nil, err
					}
				}
				g.WriteString(`\` + num) // Go rejects it: regexp2 then
				b.WriteString(`\` + num)
				i += 1 + l
				continue
			default:
				both(src[i : i+2])
			}
			i++
		case c == '[':
			end := classEnd(src, i)
			both(classEscapes(src[i:end]))
			i = end - 1
		case c == '$':
			if !multi {
				t.endNL = true
				g.WriteByte('$')
				b.WriteString(`(?=\n?\z)`)
			} else {
				both("$")
			}
		case c == '^':
			t.lookBack = true
			both("^")
		case c == '#' && ext:
			for i < n && src[i] != '\n' {
				i++
			}
		case (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') && ext:
		case c == '(' && i+2 < n && src[i+1] == '?' && src[i+2] == '#':
			end := strings.IndexByte(src[i:], ')')
			if end < 0 {
				return nil, &errAt{"missing ) after comment", i}
			}
			i += end
		case c == '(' && i+1 < n && src[i+1] == '?':
			if _, l, ok := groupName(src, i); ok {
				both("(")
				i += l - 1
				continue
			}
			if strings.HasPrefix(src[i:], "(?P=") { // (?P=name)
				end := strings.IndexByte(src[i:], ')')
				if end < 0 {
					return nil, &errAt{"missing )", i}
				}
				num, err := ref(src[i+4:i+end], i)
				if err != nil {
					return nil, err
				}
				both(`\` + num)
				i += end
				continue
			}
			if strings.HasPrefix(src[i:], "(?(<") || strings.HasPrefix(src[i:], "(?('") {
				end := strings.IndexAny(src[i+4:], ">'")
				if end >= 0 {
					num, err := ref(src[i+4:i+4+end], i)
					if err != nil {
						return nil, err
					}
					both("(?(" + num)
					i += 4 + end // the closing quote
					continue
				}
			}
			// inline options (?imsx-imsx) or (?imsx-imsx:
			j := i + 2
			for j < n && strings.IndexByte("imsxnJU-", src[j]) >= 0 {
				j++
			}
			if j > i+2 && j < n && (src[j] == ')' || src[j] == ':') {
				on, off, _ := strings.Cut(src[i+2:j], "-")
				if strings.IndexByte(on, 'm') >= 0 {
					multi = true
				}
				if strings.IndexByte(off, 'm') >= 0 {
					multi = false
				}
				if strings.IndexByte(on, 'x') >= 0 {
					ext = true
				}
				if strings.IndexByte(off, 'x') >= 0 {
					ext = false
				}
				// x and J have no Go spelling; the rest is the same
				keep := strings.NewReplacer("x", "", "J", "").Replace(src[i+2 : j])
				if keep == "" || keep == "-" {
					if src[j] == ')' {
						i = j
						continue
					}
					both("(?:")
				} else {
					both("(?" + keep + string(src[j]))
				}
				i = j
				continue
			}
			both("(?")
			i++
		default:
			g.WriteByte(c)
			b.WriteByte(c)
		}
	}
	t.goSrc, t.btSrc = g.String(), b.String()
	return t, nil
}

// groupName reads a named group opening at src[i] ("(?<name>", "(?'name'",
// "(?P<name>"): its name and the opening's length.
func groupName(src string, i int) (string, int, bool) {
	s := src[i:]
	var body string
	var close byte
	switch {
	case strings.HasPrefix(s, "(?P<"):
		body, close = s[4:], '>'
	case strings.HasPrefix(s, "(?<") && len(s) > 3 && s[3] != '=' && s[3] != '!':
		body, close = s[3:], '>'
	case strings.HasPrefix(s, "(?'"):
		body, close = s[3:], '\''
	default:
		return "", 0, false
	}
	end := strings.IndexByte(body, close)
	if end <= 0 || !isName(body[:end]) {
		return "", 0, false
	}
	return body[:end], len(s) - len(body) + end + 1, true
}

// refName reads what follows \k or \g: <name>, 'name', {name}, or digits;
// the length consumed.
func refName(s string) (string, int) {
	if s == "" {
		return "", 0
	}
	var close byte
	switch s[0] {
	case '<':
		close = '>'
	case '\'':
		close = '\''
	case '{':
		close = '}'
	default:
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return s[:j], j
	}
	end := strings.IndexByte(s[1:], close)
	if end <= 0 {
		return "", 0
	}
	return s[1 : 1+end], end + 2
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// classEnd returns the offset just past the character class opening at
// src[i] (a ']' first, or after '^', is a literal; [:name:] is one item).
func classEnd(src string, i int) int {
	j := i + 1
	if j < len(src) && src[j] == '^' {
		j++
	}
	if j < len(src) && src[j] == ']' {
		j++
	}
	for j < len(src) {
		switch {
		case src[j] == '\\':
			j += 2
			continue
		case src[j] == '[' && j+1 < len(src) && src[j+1] == ':':
			if e := strings.Index(src[j+2:], ":]"); e >= 0 {
				j += e + 4
				continue
			}
		case src[j] == ']':
			return j + 1
		}
		j++
	}
	return len(src)
}

// classEscapes spells PCRE's \h and \v inside a character class.
func classEscapes(cls string) string {
	if strings.IndexByte(cls, '\\') < 0 {
		return cls
	}
	var b strings.Builder
	for i := 0; i < len(cls); i++ {
		if cls[i] == '\\' && i+1 < len(cls) {
			switch cls[i+1] {
			case 'h':
				b.WriteString(`\t \xA0`)
			case 'v':
				b.WriteString(`\n\x0B\f\r\x85`)
			default:
				b.WriteString(cls[i : i+2])
			}
			i++
			continue
		}
		b.WriteByte(cls[i])
	}
	return b.String()
}
