package pdk

import (
	"strings"
	"testing"
	"time"
)

// kong.vault.is_reference and parse_reference, with Kong's messages for
// what is not a reference or not a usable URL.
func TestKongVaultParseReference(t *testing.T) {
	in, _ := newShimState(t)
	cases := map[string]string{
		`return kong.vault.is_reference("{vault://env/x}")`: "true",
		`return kong.vault.is_reference("{vault://}")`:      "true",
		`return kong.vault.is_reference("vault://env/x")`:   "false",
		`return kong.vault.is_reference(1)`:                 "false",
		`local r = kong.vault.parse_reference("{vault://env/my-secret}") return r.name .. " " .. r.resource .. " " .. tostring(r.key) .. " " .. tostring(r.version) .. " " .. tostring(r.config)`: "env my-secret nil nil nil",
		`local r = kong.vault.parse_reference("{vault://env/db/password#2}") return r.resource .. " " .. r.key .. " " .. r.version`:                                                               "db password 2",
		`local r = kong.vault.parse_reference("{vault://env/a/b/}") return r.resource .. " " .. tostring(r.key)`:                                                                                  "a/b nil",
		`local r = kong.vault.parse_reference("{vault://env/a%2Fb/k%20x}") return r.resource .. "|" .. r.key`:                                                                                     "a/b|k x",
		`local r = kong.vault.parse_reference("{vault://aws/x?prefix=p&flag}") return r.name .. " " .. r.config.prefix .. " " .. tostring(r.config.flag)`:                                         "aws p true",
	}
	for src, want := range cases {
		if got := strings.Join(results(t, in, src), " "); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	errs := map[string]string{
		`x`:                  "not a reference [x]",
		`{vault://}`:         "reference url is missing host [{vault://}]",
		`{vault://env}`:      "reference url is missing path [{vault://env}]",
		`{vault://env/}`:     "reference url has empty path [{vault://env/}]",
		`{vault://env/x#v2}`: "reference url has invalid version [{vault://env/x#v2}]",
		`{vault://env/x#}`:   "reference url has invalid version [{vault://env/x#}]",
		`{vault://env///}`:   "reference url has invalid path [{vault://env///}]",
	}
	for ref, want := range errs {
		got := results(t, in, `return kong.vault.parse_reference("`+ref+`")`)
		if len(got) != 2 || got[0] != "nil" || got[1] != want {
			t.Errorf("parse_reference(%q) = %q, want nil, %q", ref, got, want)
		}
	}
	if got := results(t, in, `return kong.vault.parse_reference()`); got[1] != "not a reference [nil]" {
		t.Errorf("parse_reference() = %q", got)
	}
}

// kong.vault.get with the env vault: Kong's name transformations, the
// prefix (reference or kong.conf), JSON keys, version 2, and its messages.
func TestKongVaultGetEnv(t *testing.T) {
	t.Setenv("LUAHOST_VT_SECRET", "s3cr3t")
	t.Setenv("LUAHOST_VT_SECRET_PREVIOUS", "old")
	t.Setenv("LUAHOST_VT_JSON", `{"user":"u","n":1,"t":{}}`)
	t.Setenv("LUAHOST_VT_BAD", `{nope`)
	t.Setenv("PFX_TOKEN", "with prefix")
	in, _ := newShimState(t)
	cases := map[string]string{
		`return kong.vault.get("{vault://env/luahost-vt-secret}")`:       "s3cr3t",
		`return kong.vault.get("{vault://env/LUAHOST_VT_SECRET}")`:       "s3cr3t",
		`return kong.vault.get("{vault://env/luahost_vt_secret#2}")`:     "old",
		`return kong.vault.get("{vault://env/luahost-vt-json/user}")`:    "u",
		`return kong.vault.get("{vault://env/token?prefix=pfx_}")`:       "with prefix",
		`return kong.vault.get("{vault://env/luahost-vt-json/missing}")`: "nil could not get value from external vault (could not get subfield value: subfield missing not found in JSON secret)",
		`return kong.vault.get("{vault://env/luahost-vt-json/n}")`:       "nil could not get value from external vault (could not get subfield value: unexpected number value in JSON secret for subfield n)",
		`return kong.vault.get("{vault://env/luahost-vt-json/t}")`:       "nil could not get value from external vault (could not get subfield value: unexpected table value in JSON secret for subfield t)",
		`return kong.vault.get("{vault://env/luahost-vt-secret/k}")`:     "nil could not get value from external vault (could not get subfield value: unable to json decode value (nil): Expected value but found invalid token at character 1)",
		`return kong.vault.get("{vault://env/luahost-vt-nope}")`:         "nil could not get value from external vault (no value found)",
		`return kong.vault.get("{vault://aws/secret}")`:                  "nil could not find vault (aws)",
		`return kong.vault.get("{vault://hcv/secret/key}")`:              "nil could not find vault (hcv)",
		`return kong.vault.get("not-a-ref")`:                             "nil not a reference [not-a-ref]",
		`return kong.vault.get("{vault://env}")`:                         "nil reference url is missing path [{vault://env}]",
		`return kong.vault.get("{vault://env/token?prefix=1bad}")`:       "nil could not get value from external vault (no value found)",
	}
	for src, want := range cases {
		if got := strings.Join(results(t, in, src), " "); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	// a failure is cached: Kong's second get answers nil without an error,
	// until the negative entry expires
	now := time.Unix(1700000000, 0)
	in.Root.Now = func() time.Time { return now }
	ref := `"{vault://env/luahost-vt-later}"`
	if got := strings.Join(results(t, in, `return kong.vault.get(`+ref+`)`), " "); !strings.HasSuffix(got, "(no value found)") {
		t.Fatalf("first get: %s", got)
	}
	t.Setenv("LUAHOST_VT_LATER", "now set")
	if got := strings.Join(results(t, in, `return kong.vault.get(`+ref+`)`), " "); got != "nil" {
		t.Errorf("second get: %q, want nil alone", got)
	}
	now = now.Add(vaultNegTTL)
	if got := strings.Join(results(t, in, `return kong.vault.get(`+ref+`)`), " "); got != "now set" {
		t.Errorf("after the negative ttl: %q", got)
	}
}

// kong.conf's vault_env_prefix is the env vault's prefix; vaults = off
// leaves env unknown.
func TestKongVaultConf(t *testing.T) {
	t.Setenv("MYAPP_DB_PASSWORD", "pw")
	in, _ := newShimState(t, "vault_env_prefix", "myapp_")
	if got := strings.Join(results(t, in, `return kong.vault.get("{vault://env/db-password}")`), " "); got != "pw" {
		t.Errorf("with vault_env_prefix: %q", got)
	}
	off, _ := newShimState(t, "vaults", "off")
	if got := strings.Join(results(t, off, `return kong.vault.get("{vault://env/db-password}")`), " "); got != "nil could not find vault (env)" {
		t.Errorf("vaults = off: %q", got)
	}
}

// kong.vault.update sets each "$refs" field again from the secrets already
// resolved, in sub-tables too, arrays and maps of references included; one
// never resolved becomes "" with Kong's warning.
func TestKongVaultUpdate(t *testing.T) {
	t.Setenv("LUAHOST_VT_A", "a-value")
	t.Setenv("LUAHOST_VT_B", "b-value")
	in, sink := newShimState(t)
	got := strings.Join(results(t, in, `
assert(kong.vault.get("{vault://env/luahost-vt-a}"))
assert(kong.vault.get("{vault://env/luahost-vt-b}"))
local conf = {
  a = "stale", never = "x", plain = "kept",
  list = { "s1", "s2" },
  nested = { b = "stale", ["$refs"] = { b = "{vault://env/luahost-vt-b}" } },
  ["$refs"] = {
    a = "{vault://env/luahost-vt-a}",
    never = "{vault://env/luahost-vt-unresolved}",
    list = { [2] = "{vault://env/luahost-vt-a}" },
  },
}
local same = kong.vault.update(conf) == conf
return tostring(same), conf.a, conf.never == "", conf.plain, conf.list[1], conf.list[2], conf.nested.b, kong.vault.update("x")`), " ")
	if got != "true a-value true kept s1 a-value b-value x" {
		t.Errorf("update: %q", got)
	}
	lines := sink.all()
	if len(lines) != 1 || !strings.HasSuffix(lines[0], "error updating secret reference {vault://env/luahost-vt-unresolved}: could not find cached value") || !strings.HasPrefix(lines[0], "warn|") {
		t.Errorf("warnings: %q", lines)
	}
}

// With InstallVault, kong.db reads referenceable fields with their
// secrets, the references kept in "$refs" (Kong's process_auto_fields on
// select); a read with nulls (the Admin API's) sees the references.
func TestKongVaultResolvesOnSelect(t *testing.T) {
	t.Setenv("LUAHOST_VT_CERT", "cert-pem")
	in, _ := newDBState(t)
	in.Root.InstallVault()
	got := strings.Join(results(t, in, `
local c = assert(kong.db.certificates:insert({ cert = "{vault://env/luahost-vt-cert}", key = "{vault://env/luahost-vt-missing}" }))
local r = assert(kong.db.certificates:select({ id = c.id }))
local raw = assert(kong.db.certificates:select({ id = c.id }, { nulls = true }))
return r.cert, r.key == "", r["$refs"].cert, r["$refs"].key, raw.cert, tostring(raw["$refs"])`), " ")
	want := "cert-pem true {vault://env/luahost-vt-cert} {vault://env/luahost-vt-missing} {vault://env/luahost-vt-cert} nil"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// kong.vault.try runs the callback with the references resolved; when it
// fails, the references are read again from the vault (a rotated secret)
// and the callback runs once more. Without references it is a plain call.
func TestKongVaultTry(t *testing.T) {
	t.Setenv("LUAHOST_VT_ROT", "old")
	in, _ := newShimState(t)
	run(t, in, "test.lua", `
conf = { secret = "stale", ["$refs"] = { secret = "{vault://env/luahost-vt-rot}" } }
assert(kong.vault.get("{vault://env/luahost-vt-rot}") == "old")
seen = {}
check = function(c) seen[#seen + 1] = c.secret return c.secret == "new" and "connected" or nil, "refused" end`)
	if got := strings.Join(results(t, in, `return kong.vault.try(check, conf)`), " "); got != "nil refused" {
		t.Errorf("no rotation yet: %q", got)
	}
	t.Setenv("LUAHOST_VT_ROT", "new")
	if got := strings.Join(results(t, in, `seen = {} local r = kong.vault.try(check, conf) return r, table.concat(seen, ","), conf.secret, kong.vault.get("{vault://env/luahost-vt-rot}")`), " "); got != "connected old,new new new" {
		t.Errorf("after rotation: %q", got)
	}
	if got := strings.Join(results(t, in, `return kong.vault.try(function(o) return nil, o.x end, { x = "err" })`), " "); got != "nil err" {
		t.Errorf("without references: %q", got)
	}
}

// A table holding itself ends kong.vault.update and kong.vault.try with
// Lua's "stack overflow" error, as Kong's recursive walk does, instead of
// recursing in Go until the process dies; a table shared by many fields
// (a chain of 40 diamonds: 2^40 paths) is walked once.
func TestKongVaultCyclesAndSharedTables(t *testing.T) {
	t.Setenv("LUAHOST_VT_CY", "cy-value")
	in, _ := newShimState(t)
	got := strings.Join(results(t, in, `
assert(kong.vault.get("{vault://env/luahost-vt-cy}"))
local cyc = { x = "stale", ["$refs"] = { x = "{vault://env/luahost-vt-cy}" } }
cyc.inner = { back = cyc }
local ok1, e1 = pcall(kong.vault.update, cyc)
local ok2, e2 = pcall(kong.vault.try, function() return true end, cyc)
local leaf = { s = "stale", ["$refs"] = { s = "{vault://env/luahost-vt-cy}" } }
local top = leaf
for _ = 1, 40 do top = { a = top, b = top } end
kong.vault.update(top)
local tried = kong.vault.try(function(c) return c.a.b.a.b ~= nil end, top)
return tostring(ok1), tostring(e1):match("stack overflow") or tostring(e1), tostring(ok2),
  tostring(e2):match("stack overflow") or tostring(e2), leaf.s, tostring(tried)`), " ")
	if want := "false stack overflow false stack overflow cy-value true"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
