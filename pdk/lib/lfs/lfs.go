// Package lfs is the module lfs (LuaFileSystem 1.8), a Go-backed subset:
// attributes(path [, name]), symlinkattributes(path [, name]),
// currentdir(), mkdir(path), rmdir(path), dir(path) (an iterator of entry
// names, "." and ".." included). Failures return nil, "<what> '<path>':
// <strerror>" and the errno, as lfs does. Not covered: chdir, lock,
// unlock, link, setmode, touch, lock_dir.
package lfs

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

func lfsStrerror(err error) (string, int) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" {
			s = string(s[0]-'a'+'A') + s[1:]
		}
		return s, int(errno)
	}
	return err.Error(), 0
}

func lfsFail(L *lua.LState, prefix string, err error) int {
	msg, code := lfsStrerror(err)
	L.Push(lua.LNil)
	L.Push(lua.LString(prefix + msg))
	L.Push(lua.LNumber(code))
	return 3
}

func lfsMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "link"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "char device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "other"
}

func lfsPerms(m fs.FileMode) string {
	const rwx = "rwxrwxrwx"
	b := []byte("---------")
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[i] = rwx[i]
		}
	}
	return string(b)
}

func lfsAttributes(stat func(string) (fs.FileInfo, error)) lua.LGFunction {
	return func(L *lua.LState) int {
		path := luavm.CheckString(L, 1)
		fi, err := stat(path)
		if err != nil {
			return lfsFail(L, "cannot obtain information from file '"+path+"': ", err)
		}
		t := L.NewTable()
		t.RawSetString("mode", lua.LString(lfsMode(fi.Mode())))
		t.RawSetString("size", lua.LNumber(fi.Size()))
		t.RawSetString("modification", lua.LNumber(fi.ModTime().Unix()))
		t.RawSetString("permissions", lua.LString(lfsPerms(fi.Mode().Perm())))
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			t.RawSetString("dev", lua.LNumber(st.Dev))
			t.RawSetString("ino", lua.LNumber(st.Ino))
			t.RawSetString("nlink", lua.LNumber(st.Nlink))
			t.RawSetString("uid", lua.LNumber(st.Uid))
			t.RawSetString("gid", lua.LNumber(st.Gid))
			t.RawSetString("rdev", lua.LNumber(st.Rdev))
			t.RawSetString("access", lua.LNumber(st.Atim.Sec))
			t.RawSetString("change", lua.LNumber(st.Ctim.Sec))
			t.RawSetString("blocks", lua.LNumber(st.Blocks))
			t.RawSetString("blksize", lua.LNumber(st.Blksize))
		}
		switch name := L.Get(2).(type) {
		case lua.LString:
			L.Push(t.RawGetString(string(name)))
		case *lua.LTable:
			t.ForEach(func(k, v lua.LValue) { name.RawSet(k, v) })
			L.Push(name)
		default:
			L.Push(t)
		}
		return 1
	}
}

// Open registers the preloaded module "lfs" in L.
func Open(L *lua.LState) {
	L.PreloadModule("lfs", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"attributes":        lfsAttributes(os.Stat),
			"symlinkattributes": lfsAttributes(os.Lstat),
			"currentdir": func(L *lua.LState) int {
				d, err := os.Getwd()
				if err != nil {
					return lfsFail(L, "", err)
				}
				L.Push(lua.LString(d))
				return 1
			},
			"mkdir": func(L *lua.LState) int {
				if err := os.Mkdir(luavm.CheckString(L, 1), 0o777); err != nil {
					return lfsFail(L, "", err)
				}
				L.Push(lua.LTrue)
				return 1
			},
			"rmdir": func(L *lua.LState) int {
				if err := syscall.Rmdir(luavm.CheckString(L, 1)); err != nil {
					return lfsFail(L, "", err)
				}
				L.Push(lua.LTrue)
				return 1
			},
			"dir": func(L *lua.LState) int {
				path := luavm.CheckString(L, 1)
				entries, err := os.ReadDir(path)
				if err != nil {
					msg, _ := lfsStrerror(err)
					L.RaiseError("cannot open %s: %s", path, msg)
				}
				names := append([]string{".", ".."}, make([]string, 0, len(entries))...)
				for _, e := range entries {
					names = append(names, e.Name())
				}
				i := 0
				L.Push(L.NewFunction(func(L *lua.LState) int {
					if i >= len(names) {
						return 0
					}
					i++
					L.Push(lua.LString(names[i-1]))
					return 1
				}))
				return 1
			},
		})
		mod.RawSetString("_VERSION", lua.LString("LuaFileSystem 1.8.0"))
		L.Push(mod)
		return 1
	})
}
