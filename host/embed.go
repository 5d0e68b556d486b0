package host

import (
	"embed"
	"io/fs"
	"strings"
)

// embedded holds the Lua shims shipped with luahost (host/lua/...), served
// by module path: host/lua/kong/meta.lua is require "kong.meta".
//
//go:embed all:lua
var embedded embed.FS

// embeddedModule returns the embedded source of module name and its chunk
// name, trying <path>.lua then <path>/init.lua.
func embeddedModule(name string) (src []byte, chunk string, ok bool) {
	p := strings.ReplaceAll(name, ".", "/")
	for _, cand := range []string{p + ".lua", p + "/init.lua"} {
		b, err := fs.ReadFile(embedded, "lua/"+cand)
		if err == nil {
			return b, cand, true
		}
	}
	return nil, "", false
}
