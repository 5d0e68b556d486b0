package grpcurl

import "errors"

// Split splits a command line into words as a POSIX shell does, without
// expansions: blanks separate words, single quotes keep everything to the
// next single quote, double quotes keep everything but a backslash before
// one of $ ` " \ or a newline, and a backslash outside quotes keeps the next
// character. Kong's grpc_client quotes -d's JSON in single quotes and specs
// quote header values the same way ("'kong-debug: 1'").
func Split(line string) ([]string, error) {
	var words []string
	var cur []byte
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, string(cur))
				cur, inWord = cur[:0:0], false
			}
		case c == '\'':
			inWord = true
			j := i + 1
			for j < len(line) && line[j] != '\'' {
				j++
			}
			if j == len(line) {
				return nil, errors.New("unterminated single quote")
			}
			cur = append(cur, line[i+1:j]...)
			i = j
		case c == '"':
			inWord = true
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					switch line[j+1] {
					case '$', '`', '"', '\\':
						j++
					case '\n':
						j++
						continue
					}
				}
				cur = append(cur, line[j])
			}
			if j == len(line) {
				return nil, errors.New("unterminated double quote")
			}
			i = j
		case c == '\\':
			inWord = true
			if i+1 < len(line) {
				i++
				if line[i] != '\n' {
					cur = append(cur, line[i])
				}
			}
		default:
			inWord = true
			cur = append(cur, c)
		}
	}
	if inWord {
		words = append(words, string(cur))
	}
	return words, nil
}
