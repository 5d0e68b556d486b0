package spechelpers

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/dnsclient"
)

// Fixtures is what start_kong's fourth argument gives the node it starts.
type Fixtures struct {
	// DNSMock is fixtures.dns_mock (nil: none; the node's DNS client asks
	// its nameservers only).
	DNSMock *dnsclient.Mock
}

// DNSMock reads a helpers.dns_mock instance (host/lua/spec/internal/dns.lua)
// in Kong's layout: mocks_only, and at each record type's number a table
// of names, each a list of lua-resty-dns records (type, name, address,
// cname, target, port, weight, priority, ttl). A record's own type and
// name are kept, as Kong's mock resolver returns the list as it is.
func DNSMock(t *lua.LTable) (*dnsclient.Mock, error) {
	m := &dnsclient.Mock{Records: map[uint16]map[string][]dnsclient.Record{},
		MocksOnly: lua.LVAsBool(t.RawGetString("mocks_only"))}
	var err error
	t.ForEach(func(k, v lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || err != nil {
			return
		}
		qtype := uint16(n)
		if float64(qtype) != float64(n) || qtype == 0 {
			err = fmt.Errorf("dns_mock: %v is no record type", k)
			return
		}
		names, ok := v.(*lua.LTable)
		if !ok {
			err = fmt.Errorf("dns_mock: the records of type %d are a %s, not a table", qtype, v.Type())
			return
		}
		byName := map[string][]dnsclient.Record{}
		names.ForEach(func(name, list lua.LValue) {
			if err != nil {
				return
			}
			recs, ok := list.(*lua.LTable)
			if !ok {
				err = fmt.Errorf("dns_mock: the %d records of %s are a %s, not a list", qtype, name, list.Type())
				return
			}
			var out []dnsclient.Record
			for i := 1; i <= recs.Len(); i++ {
				r, ok := recs.RawGetInt(i).(*lua.LTable)
				if !ok {
					err = fmt.Errorf("dns_mock: record %d of %s (type %d) is no table", i, name, qtype)
					return
				}
				out = append(out, mockRecord(r, qtype, name.String()))
			}
			byName[name.String()] = out
		})
		if len(byName) > 0 {
			m.Records[qtype] = byName
		}
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// mockRecord is one lua-resty-dns record; a missing type or name is the
// type and name it is listed under.
func mockRecord(r *lua.LTable, qtype uint16, name string) dnsclient.Record {
	num := func(f string) int {
		if n, ok := r.RawGetString(f).(lua.LNumber); ok {
			return int(n)
		}
		return 0
	}
	str := func(f string) string {
		switch v := r.RawGetString(f).(type) {
		case lua.LString:
			return string(v)
		case lua.LNumber:
			return v.String()
		}
		return ""
	}
	rec := dnsclient.Record{Type: qtype, Name: name, Address: str("address"), CNAME: str("cname"),
		Target: str("target"), Port: num("port"), Weight: num("weight"), Priority: num("priority")}
	if t := num("type"); t > 0 {
		rec.Type = uint16(t)
	}
	if s := str("name"); s != "" {
		rec.Name = s
	}
	if ttl := num("ttl"); ttl > 0 {
		rec.TTL = uint32(ttl)
	}
	return rec
}
