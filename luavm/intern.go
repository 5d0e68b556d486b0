package luavm

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Names shared by the code and the tables it reads. gopher-lua reads a
// field by name (`kong.request.get_header`, `conf.header_name`) as a Go
// map lookup with the name as key: the key is hashed, and each candidate
// slot's key compared with it. Go compares two strings' bytes only when
// their data pointers differ; the name in the compiled code (a string the
// parser made) and the key in the table (a Go literal of the binding, a
// field name of a schema) always differ, so every read also reads the
// key's bytes from wherever the table's maker left them. Between the
// proxy's system calls those bytes are out of the caches: profiled under
// bench/plugin.sh, that comparison (memeqbody) was a tenth of token-auth's
// access phase with the sockets, against a twentieth in memory.
//
// So the names are interned: one copy per process of each short string
// that serves as a name. Compile makes every short string constant of a
// chunk the process's copy (Intern), and the tables that Lua reads by name
// and that live long (the PDK's namespaces, plugin configurations, DAO
// objects, cached entities) have their keys made the same copies
// (InternKeys, Canonical). A read then finds the key by its pointer. The
// values are the same strings: nothing a program can observe changes,
// only where the bytes are.

// maxInternLen bounds the strings interned: names, not texts.
const maxInternLen = 64

var (
	internMu  sync.RWMutex
	internTab = map[string]string{}
)

// Intern returns the process's copy of s, making s that copy if there is
// none; s itself when longer than 64 bytes.
func Intern(s string) string {
	c, ok := copyOf(s)
	if ok || len(s) > maxInternLen || s == "" {
		return c
	}
	internMu.Lock()
	defer internMu.Unlock()
	if c, ok := internTab[s]; ok {
		return c
	}
	internTab[s] = s
	return s
}

// Canonical returns the process's copy of s when there is one, else s
// (nothing is added: for strings that are names only sometimes, such as
// the keys of decoded cache values).
func Canonical(s string) string {
	c, _ := copyOf(s)
	return c
}

// copyOf is the process's copy of s and true, or s and false.
func copyOf(s string) (string, bool) {
	if len(s) > maxInternLen || s == "" {
		return s, false
	}
	internMu.RLock()
	c, ok := internTab[s]
	internMu.RUnlock()
	if !ok {
		return s, false
	}
	return c, true
}

// SameString reports whether a and b are the same copy (equal and sharing
// their bytes): what Intern makes of equal names.
func SameString(a, b string) bool {
	return a == b && unsafe.StringData(a) == unsafe.StringData(b)
}

// KeyCopy returns t's string key equal to name, as stored in the table
// (tests: whether it is the process's copy), and whether there is one.
func KeyCopy(t *lua.LTable, name string) (string, bool) {
	if internalsErr != nil {
		return "", false
	}
	for k := range *tStrdict(t) {
		if k == name {
			return k, true
		}
	}
	return "", false
}

// InternKeys makes the string keys of t the process's copies (Intern),
// and those of the tables reachable from t's values and metatables (a
// userdata's metatable included: `kong.cache:get` reads its methods
// there) down to depth more levels. Each table is visited once.
func InternKeys(t *lua.LTable, depth int) {
	if internalsErr != nil || t == nil {
		return
	}
	internTree(t, depth, map[*lua.LTable]bool{})
}

func internTree(t *lua.LTable, depth int, seen map[*lua.LTable]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	sd := *tStrdict(t)
	var moved []string
	for k := range sd {
		if c := Intern(k); unsafe.StringData(c) != unsafe.StringData(k) {
			moved = append(moved, k)
		}
	}
	for _, k := range moved {
		// the same key, its bytes the process's copy: a map keeps the key
		// it was first given, so the entry is made again
		v := sd[k]
		delete(sd, k)
		sd[Intern(k)] = v
	}
	if depth <= 0 {
		return
	}
	visit := func(v lua.LValue) {
		switch x := v.(type) {
		case *lua.LTable:
			internTree(x, depth-1, seen)
		case *lua.LUserData:
			if mt, ok := x.Metatable.(*lua.LTable); ok {
				internTree(mt, depth-1, seen)
			}
		}
	}
	for _, v := range sd {
		visit(v)
	}
	visit(t.Metatable)
}

// internProto makes the short string constants of p and of the functions
// inside it the process's copies. gopher-lua keeps each constant twice: as
// a value (Constants, read by LOADK and by operands) and as a Go string
// (stringConstants, read by the instructions that index by a constant
// name: GETGLOBAL, GETTABLEKS, SELF, ...); both become the copy.
func internProto(p *lua.FunctionProto) {
	if protoErr != nil {
		return
	}
	sc := (*[]string)(unsafe.Add(unsafe.Pointer(p), offStringConstants))
	for i, c := range p.Constants {
		s, ok := c.(lua.LString)
		if !ok || len(s) > maxInternLen {
			continue
		}
		in := Intern(string(s))
		if !SameString(in, string(s)) {
			p.Constants[i] = lua.LString(in)
		}
		if i < len(*sc) && (*sc)[i] == in {
			(*sc)[i] = in
		}
	}
	for _, f := range p.FunctionPrototypes {
		internProto(f)
	}
}

var (
	offStringConstants uintptr
	protoErr           = checkProtoInternals()
)

// checkProtoInternals finds FunctionProto.stringConstants ([]string).
func checkProtoInternals() error {
	f, ok := reflect.TypeOf(lua.FunctionProto{}).FieldByName("stringConstants")
	if !ok || f.Type != reflect.TypeOf([]string(nil)) {
		return fmt.Errorf("luavm: gopher-lua's FunctionProto has no []string field stringConstants (upgraded?): constants are not interned")
	}
	offStringConstants = f.Offset
	return nil
}
