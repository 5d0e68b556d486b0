package lfs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestLFS(t *testing.T) {
	in, _ := pdktest.New(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "body")
	if err := os.WriteFile(f, []byte("12345"), 0o640); err != nil {
		t.Fatal(err)
	}
	q := func(s string) string { return `"` + s + `"` }
	cases := map[string]string{
		`return require("lfs").attributes(` + q(f) + `, "size")`:                                                           "5",
		`local a = require("lfs").attributes(` + q(f) + `) return a.mode .. "," .. a.permissions .. "," .. a.size`:         "file,rw-r-----,5",
		`return require("lfs").attributes(` + q(dir) + `).mode`:                                                            "directory",
		`local a, err, code = require("lfs").attributes(` + q(f+"x") + `) return tostring(a) .. "|" .. err .. "|" .. code`: "nil|cannot obtain information from file '" + f + "x': No such file or directory|2",
		`local lfs = require("lfs") assert(lfs.mkdir(` + q(dir+"/sub") + `))
		 local names = {} for n in lfs.dir(` + q(dir) + `) do names[#names+1] = n end
		 table.sort(names) assert(lfs.rmdir(` + q(dir+"/sub") + `))
		 return table.concat(names, ",") .. "|" .. tostring(lfs.attributes(` + q(dir+"/sub") + `))`: ".,..,body,sub|nil",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s\n= %s, want %s", src, got, want)
		}
	}
	wd, _ := os.Getwd()
	if got := pdktest.Str(t, in, `return require("lfs").currentdir()`); got != wd {
		t.Errorf("currentdir = %s, want %s", got, wd)
	}
	if msg := pdktest.LuaErr(t, in, `require("lfs").dir("/nonexistent/x")`); !strings.Contains(msg, "cannot open /nonexistent/x: No such file or directory") {
		t.Errorf("dir error: %s", msg)
	}
}
