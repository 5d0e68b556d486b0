package spechelpers

import (
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/dnsclient"
)

func luaTable(t *testing.T, src string) *lua.LTable {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	if err := L.DoString("return " + src); err != nil {
		t.Fatal(err)
	}
	return L.Get(-1).(*lua.LTable)
}

// A dns_mock in Kong's layout (records at their type's number, by name,
// as spec/internal/dns.lua makes them) becomes the client's Mock, every
// field of lua-resty-dns's records kept.
func TestDNSMockRecords(t *testing.T) {
	tbl := luaTable(t, `{ mocks_only = true,
		[1] = { ["a.test"] = {
			{ type = 1, name = "a.test", address = "127.0.0.1", ttl = 600, class = 1 },
			{ type = 1, name = "a.test", address = "127.0.0.2", ttl = 30, class = 1 } } },
		[28] = { ["six.test"] = { { type = 28, name = "six.test", address = "::1", ttl = 600, class = 1 } } },
		[5] = { ["alias.test"] = { { type = 5, name = "alias.test", cname = "a.test", ttl = 600, class = 1 } } },
		[33] = { ["srv.test"] = { { type = 33, name = "srv.test", target = "a.test", port = 8000,
			weight = 10, priority = 20, ttl = 600, class = 1 } } } }`)
	m, err := DNSMock(tbl)
	if err != nil {
		t.Fatal(err)
	}
	want := &dnsclient.Mock{MocksOnly: true, Records: map[uint16]map[string][]dnsclient.Record{
		dnsclient.TypeA: {"a.test": {
			{Type: dnsclient.TypeA, Name: "a.test", Address: "127.0.0.1", TTL: 600},
			{Type: dnsclient.TypeA, Name: "a.test", Address: "127.0.0.2", TTL: 30}}},
		dnsclient.TypeAAAA:  {"six.test": {{Type: dnsclient.TypeAAAA, Name: "six.test", Address: "::1", TTL: 600}}},
		dnsclient.TypeCNAME: {"alias.test": {{Type: dnsclient.TypeCNAME, Name: "alias.test", CNAME: "a.test", TTL: 600}}},
		dnsclient.TypeSRV: {"srv.test": {{Type: dnsclient.TypeSRV, Name: "srv.test", Target: "a.test", Port: 8000,
			Weight: 10, Priority: 20, TTL: 600}}},
	}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got  %+v\nwant %+v", m, want)
	}
}

// Without mocks_only the client falls through to its nameservers; a
// record without type or name is the type and name it is listed under.
func TestDNSMockDefaults(t *testing.T) {
	m, err := DNSMock(luaTable(t, `{ [1] = { ["a.test"] = { { address = "127.0.0.1" } } } }`))
	if err != nil {
		t.Fatal(err)
	}
	want := &dnsclient.Mock{Records: map[uint16]map[string][]dnsclient.Record{
		dnsclient.TypeA: {"a.test": {{Type: dnsclient.TypeA, Name: "a.test", Address: "127.0.0.1"}}}}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got  %+v\nwant %+v", m, want)
	}
}

// Records that are not tables are an error naming where they are.
func TestDNSMockBadShape(t *testing.T) {
	for src, msg := range map[string]string{
		`{ [1] = "x" }`:                      "records of type 1",
		`{ [33] = { ["s.test"] = 5 } }`:      "33 records of s.test",
		`{ [1] = { ["a.test"] = { "x" } } }`: "record 1 of a.test",
	} {
		_, err := DNSMock(luaTable(t, src))
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want an error with %q", src, err, msg)
		}
	}
}
