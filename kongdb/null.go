package kongdb

import "github.com/luahost/luahost/kongdb/schema"

func isNullValue(v any) bool { return schema.IsNull(v) }

// isEmpty is Lua's `v == nil or v == null`.
func isEmpty(v any) bool { return v == nil || schema.IsNull(v) }
