package main

import (
	"testing"

	"github.com/luahost/luahost/conf"
)

// A spec's lua_package_path (start_kong{lua_package_path = ...}) keeps the
// fixture plugins loadable, as Kong's kong_exec puts the fixtures' plugin
// and vault paths before it and the test configuration's after it.
func TestStartKongLuaPackagePathKeepsFixtures(t *testing.T) {
	base := conf.New()
	base.Set("lua_package_path", "./?.lua;./?/init.lua;./spec/fixtures/custom_plugins/?.lua", kongTestsConf)
	s := &specNodes{base: base}
	defer s.Close()
	c := s.nodeConf(map[string]string{"lua_package_path": "?/init.lua;./kong/?.lua;./spec/fixtures/?.lua;"})
	want := "./spec/fixtures/custom_plugins/?.lua;./spec/fixtures/custom_vaults/?.lua;./spec/fixtures/custom_vaults/?/init.lua;" +
		"?/init.lua;./kong/?.lua;./spec/fixtures/?.lua;" +
		"./?.lua;./?/init.lua;./spec/fixtures/custom_plugins/?.lua"
	if got := c.Get("lua_package_path"); got != want {
		t.Fatalf("lua_package_path = %q, want %q", got, want)
	}
	// without one, the test configuration's path is the node's
	c = s.nodeConf(map[string]string{})
	if got := c.Get("lua_package_path"); got != base.Get("lua_package_path") {
		t.Fatalf("lua_package_path = %q, want the base's", got)
	}
}
