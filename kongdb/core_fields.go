package kongdb

import "github.com/luahost/luahost/kongdb/schema"

// Field constructors standing in for Kong's typedefs in the core schemas.

func fUUID() *schema.Field {
	return &schema.Field{Name: "id", Type: schema.TypeString, UUID: true, Auto: true}
}

func fTimestamp(name string) *schema.Field {
	return &schema.Field{Name: name, Type: schema.TypeInteger, Timestamp: true, Auto: true}
}

func builtin(name string) *schema.Func { return &schema.Func{Ref: "builtin:" + name} }

func fUTF8Name(name string) *schema.Field {
	return &schema.Field{Name: name, Type: schema.TypeString, Unique: true, CustomValidator: builtin("utf8_name")}
}

func fTag() *schema.Field {
	return &schema.Field{Type: schema.TypeString, Required: true, RequiredSet: true, CustomValidator: builtin("tag")}
}

func fTags() *schema.Field {
	return &schema.Field{Name: "tags", Type: schema.TypeSet, Elements: fTag()}
}

func fForeign(name, ref, onDelete string, nullDefault bool) *schema.Field {
	f := &schema.Field{Name: name, Type: schema.TypeForeign, Reference: ref, OnDelete: onDelete}
	if nullDefault {
		f.Default, f.HasDefault = schema.Null, true
	}
	return f
}

func fBool(name string, def bool) *schema.Field {
	return &schema.Field{Name: name, Type: schema.TypeBoolean, Required: true, RequiredSet: true, Default: def, HasDefault: true}
}

func fInt(name string, def float64, lo, hi float64) *schema.Field {
	return &schema.Field{Name: name, Type: schema.TypeInteger, Default: def, HasDefault: true, Between: &[2]float64{lo, hi}}
}

func strings2any(ss ...string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func fProtocols(def ...string) *schema.Field {
	f := &schema.Field{Name: "protocols", Type: schema.TypeSet, Required: true, RequiredSet: true,
		Elements: &schema.Field{Type: schema.TypeString, OneOf: strings2any(
			"grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp")}}
	if len(def) > 0 {
		f.Default, f.HasDefault = strings2any(def...), true
	}
	return f
}
