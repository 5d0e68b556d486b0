package schema

import (
	"strings"
)

// Builtin validators: the custom_validator functions of Kong's typedefs
// (kong/db/schema/typedefs.lua), written in Go so that schemas using them
// validate without a Lua runner. typedefs.lua places a marker
// (*Func{Ref: "builtin:<name>"}, from the luahost.builtin module) in the
// custom_validator slot; FieldFromMap turns a known marker into the field's
// NativeValidator. Messages are Kong's.

// BuiltinRefPrefix starts the Ref of a builtin validator marker.
const BuiltinRefPrefix = "builtin:"

// builtinValidators maps a builtin name to its validator. Each takes the
// field value (a string for string fields, a map for records) and returns
// ok, or false and Kong's message.
var builtinValidators map[string]NativeValidatorFunc

func init() {
	builtinValidators = map[string]NativeValidatorFunc{
		"host":                    strValidator(validHost),
		"redis_host":              strValidator(validHost),
		"host_with_optional_port": strValidator(validHostWithOptionalPort),
		"host_with_wildcards":     strValidator(validHostWithWildcards),
		"wildcard_host":           strValidator(validWildcardHost),
		"sni":                     strValidator(validSNI),
		"ip":                      strValidator(validIP),
		"ip_or_cidr":              strValidator(validIPOrCIDR),
		"ip_or_cidr_v4":           strValidator(validIPOrCIDRv4),
		"cidr_v4":                 strValidator(validIPOrCIDRv4),
		"path":                    strValidator(validPath),
		"router_path":             strValidator(validRouterPath),
		"path_with_regexes":       strValidator(validPathWithRegexes),
		"url":                     strValidator(validURL),
		"header_name":             strValidator(validHeaderName),
		"cookie_name":             strValidator(validCookieName),
		"name":                    strValidator(validName),
		"utf8_name":               strValidator(validUTF8Name),
		"tag":                     strValidator(validTag),
		"certificate":             strValidator(validCertificate),
		"key":                     strValidator(validKey),
		"pem":                     validPEMKeys,
		"jwk":                     validJWK,
	}
}

// BuiltinValidator returns the Go validator named name ("host", "ip",
// "path", ...; the part after "builtin:" in a marker's Ref) or nil.
func BuiltinValidator(name string) NativeValidatorFunc {
	return builtinValidators[name]
}

// BuiltinValidatorFor returns the Go validator of a builtin marker
// (*Func whose Ref is "builtin:<name>") or nil for any other function.
func BuiltinValidatorFor(fn *Func) NativeValidatorFunc {
	if fn == nil || !strings.HasPrefix(fn.Ref, BuiltinRefPrefix) {
		return nil
	}
	return builtinValidators[fn.Ref[len(BuiltinRefPrefix):]]
}

// BuiltinNames lists the registered builtin validator names.
func BuiltinNames() []string {
	out := make([]string, 0, len(builtinValidators))
	for k := range builtinValidators {
		out = append(out, k)
	}
	return out
}

// strValidator adapts a string check; a value of another type passes (the
// type check has already reported it).
func strValidator(f func(string) (bool, string)) NativeValidatorFunc {
	return func(v any) (bool, string) {
		s, ok := v.(string)
		if !ok {
			return true, ""
		}
		return f(s)
	}
}
