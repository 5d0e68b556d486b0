package restyopenssl_test

import (
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

// resty.openssl.bn with OpenSSL's results: the datadog and gcp trace id
// conversions of Kong's tracing propagation (decimal <-> 8 bytes), hex in
// whole upper-case bytes, the BN_dec2bn prefix rule, arithmetic.
func TestRestyOpenSSLBn(t *testing.T) {
	in, _ := pdktest.New(t)
	pre := `local bn = require "resty.openssl.bn"
	local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
	`
	cases := map[string]string{
		// 2^64 - 1 and a datadog trace id, both ways
		`return hex(bn.from_dec("18446744073709551615"):to_binary())`:                                                                                        "ffffffffffffffff",
		`return bn.from_binary("\255\255\255\255\255\255\255\255"):to_dec()`:                                                                                 "18446744073709551615",
		`return hex(bn.from_dec("1234567890123456789"):to_binary(8))`:                                                                                        "112210f47de98115",
		`return hex(bn.from_dec("1"):to_binary(8))`:                                                                                                          "0000000000000001",
		`return bn.from_binary("\0\0\0\0\0\0\0\1"):to_dec()`:                                                                                                 "1",
		`return tostring(bn.from_hex("ff"))`:                                                                                                                 "255",
		`return bn.new(5):to_hex() .. " " .. bn.new(0):to_hex() .. " " .. bn.new(4096):to_hex()`:                                                             "05 0 1000",
		`return bn.from_dec("-255"):to_hex()`:                                                                                                                "-FF",
		`return bn.from_dec("12abc"):to_dec()`:                                                                                                               "12",
		`local b, err = bn.from_dec("x1") return tostring(b) .. "|" .. err`:                                                                                  "nil|bn.from_dec: invalid decimal number",
		`local b, err = bn.from_dec(1) return tostring(b) .. "|" .. err`:                                                                                     "nil|bn.from_dec: expect a string at #1",
		`local b, err = bn.new({}) return tostring(b) .. "|" .. err`:                                                                                         "nil|bn.new: expect nil, a number or a string at #1",
		`return bn.new("ff", 16):to_dec() .. " " .. bn.new("\1\0", 2):to_dec() .. " " .. bn.new():to_dec()`:                                                  "255 256 0",
		`local b, err = bn.new(0):to_binary(); return tostring(b) .. "|" .. tostring(err ~= nil)`:                                                            "nil|true",
		`local b, err = bn.new(65536):to_binary(2); return tostring(b) .. "|" .. tostring(err ~= nil)`:                                                       "nil|true",
		`return tostring(bn.new(7) + 3) .. " " .. tostring(bn.new(7) - bn.new(9)) .. " " .. tostring(bn.new(7) * 6)`:                                         "10 -2 42",
		`return tostring(bn.new(-7 + 0 * 1) / 1)`:                                                                                                            "18446744073709551609",
		`return tostring(bn.from_dec("-7") / 2) .. " " .. tostring(bn.from_dec("-7") % 2)`:                                                                   "-3 -1",
		`return tostring(-bn.new(3)) .. " " .. tostring(bn.new(2):exp(64)) .. " " .. tostring(bn.new(1):lshift(70):rshift(6))`:                               "-3 18446744073709551616 18446744073709551616",
		`return tostring(bn.mod_exp(bn.new(4), 13, 497)) .. " " .. tostring(bn.gcd(12, 18)) .. " " .. tostring(bn.sqr(12))`:                                  "445 6 144",
		`return tostring(bn.new(2) < bn.new(3)) .. tostring(bn.new(3) <= bn.new(3)) .. tostring(bn.new(3) == bn.new(3)) .. tostring(bn.new(3) == bn.new(4))`: "truetruetruefalse",
		`return tostring(bn.new(1):is_one()) .. tostring(bn.new(0):is_zero()) .. tostring(bn.new(3):is_odd()) .. tostring(bn.new(9):is_word(9))`:             "truetruetruetrue",
		`return bn.from_dec("99999999999999999999"):to_number() .. " " .. bn.new(42):tonumber()`:                                                             "1.844674407371e+19 42",
		`return tostring(bn.istype(bn.new())) .. tostring(bn.istype({}))`:                                                                                    "truefalse",
		`local b = bn.new() assert(b:set("77") == b) return b:to_dec()`:                                                                                      "77",
		`return select(2, pcall(function() return bn.new(1) + {} end))`:                                                                                      "test.lua:3: cannot add a table to bignum",
		`return select(2, pcall(function() return bn.new(1) / 0 end))`:                                                                                       "test.lua:3: BN_div() failed",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, pre+src); got != want {
			t.Errorf("%s\n= %s, want %s", src, got, want)
		}
	}
}

// exp and lshift refuse a result past 2^20 bits before computing it, as
// OpenSSL refuses a BN past its size limit: exp(2, -Inf) (the exponent
// word 2^63) ran until the worker's deadline and lshift(1, 2^62) would
// have asked for 2^59 bytes. Powers of 0, 1 and -1 stay answered.
func TestRestyOpenSSLBnBounds(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`local bn = require "resty.openssl.bn" return tostring(pcall(bn.exp, bn.new(2), -math.huge))`:                               "false",
		`local bn = require "resty.openssl.bn" return tostring(pcall(bn.exp, bn.new(3), 2^40))`:                                     "false",
		`local bn = require "resty.openssl.bn" return tostring(pcall(bn.lshift, bn.new(1), 2^62))`:                                  "false",
		`local bn = require "resty.openssl.bn" return tostring(bn.new(1):exp(2^62)) .. tostring(bn.new(0):exp(2^62))`:               "10",
		`local bn = require "resty.openssl.bn" return tostring(bn.new(0):lshift(2^62)) .. " " .. #tostring(bn.new(1):lshift(4096))`: "0 1234",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}
