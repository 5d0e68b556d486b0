package postgres

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/luahost/luahost/kongdb/schema"
)

// EncodeOffset builds Kong's page offset: base64 (standard alphabet, no
// padding) of the JSON array of the primary-key values of the last row.
func EncodeOffset(pkValues []any) string {
	b, _ := json.Marshal(schema.JSONReady(pkValues))
	return base64.RawStdEncoding.EncodeToString(b)
}

// DecodeOffset reverses EncodeOffset; the error text is Kong's reason
// ("bad base64 encoding", "bad json encoding").
func DecodeOffset(token string) ([]any, string) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(token, "="))
	if err != nil {
		return nil, "bad base64 encoding"
	}
	var vals []any
	if err := json.Unmarshal(raw, &vals); err != nil {
		return nil, "bad json encoding"
	}
	return vals, ""
}
