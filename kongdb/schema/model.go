// Package schema is the Go model of Kong entity schemas (kong/db/schema) and
// their validation: field types, attributes, validators, entity checks,
// defaults and auto fields, subschemas. It holds no Lua: functions defined in
// Lua (custom_validator, custom_entity_check, transformations, shorthand
// funcs) are referenced by *Func and run through a FuncRunner taken from the
// context, which the host implements with the calling worker.
package schema

import (
	"context"
	"sync"
)

// NullType is the type of Null.
type NullType struct{}

// String prints Null the way Penlight prints ngx.null.
func (NullType) String() string { return "userdata: NULL" }

// Null is ngx.null / JSON null: "explicitly empty", as opposed to a missing
// key ("not given"). Kong distinguishes the two everywhere.
var Null = NullType{}

// IsNull reports whether v is Null.
func IsNull(v any) bool { _, ok := v.(NullType); return ok }

// Values of entities:
//   - absent          -> key missing from the map
//   - Null            -> explicit null
//   - string, bool
//   - float64         -> every number (Lua 5.1 numbers are doubles)
//   - []any           -> array, set
//   - map[string]any  -> record, map, foreign ({ id = "..." }), json object
//   - *Func           -> a Lua function (only in definitions, never in stored rows)

// Type is a field type of Kong's Schema.valid_types.
type Type string

const (
	TypeString   Type = "string"
	TypeNumber   Type = "number"
	TypeInteger  Type = "integer"
	TypeBoolean  Type = "boolean"
	TypeArray    Type = "array"
	TypeSet      Type = "set"
	TypeMap      Type = "map"
	TypeRecord   Type = "record"
	TypeForeign  Type = "foreign"
	TypeFunction Type = "function"
	TypeJSON     Type = "json"
	TypeAny      Type = "any"
)

// Func is a function defined in Lua, identified by a reference that is the
// same in every worker (plugin, file and path inside the definition), so that
// whichever worker validates can run its own copy.
type Func struct {
	Ref string // stable identity, e.g. "myplugin/daos.lua:things.fields.key.custom_validator"
	// Go, when set, is the function itself, written in Go (core schemas'
	// shorthands): it runs without a FuncRunner.
	Go func(args ...any) []any
}

// FuncRunner runs a Lua function by reference in the calling worker. Args and
// results use the value model above (a Lua nil result is a Go nil).
type FuncRunner interface {
	CallFunc(ctx context.Context, fn *Func, args ...any) ([]any, error)
}

type funcRunnerKey struct{}

// WithFuncRunner returns a context whose Lua functions run through r.
func WithFuncRunner(ctx context.Context, r FuncRunner) context.Context {
	return context.WithValue(ctx, funcRunnerKey{}, r)
}

// FuncRunnerFrom returns the FuncRunner of ctx, or nil.
func FuncRunnerFrom(ctx context.Context) FuncRunner {
	r, _ := ctx.Value(funcRunnerKey{}).(FuncRunner)
	return r
}

// Field is one field definition (kong/db/schema/metaschema.lua field_schema).
// Optional scalar attributes are pointers (nil = not set).
type Field struct {
	Name string
	Type Type

	Required bool
	// RequiredSet records that the definition set `required` itself (true
	// or false): Entity.new makes records required only when it did not.
	RequiredSet    bool
	Unique         bool
	UniqueAcrossWS bool
	Immutable      bool
	Auto           bool
	Abstract       bool
	Transient      bool
	Referenceable  bool
	Encrypted      bool
	Nilable        bool
	// Timestamp is the `timestamp = true` validator; with Auto on fields named
	// created_at/updated_at it makes an auto timestamp.
	Timestamp bool
	UUID      bool
	IsRegex   bool

	Default    any // nil = no default; Null = default null
	HasDefault bool

	Reference string // foreign: referenced entity name
	OnDelete  string // foreign: "cascade", "null", "restrict" or ""
	// RefSchema is the referenced schema (Kong's field.schema), set by
	// Registry.NewEntity / NewSubschema.
	RefSchema *Schema

	Elements *Field   // array, set
	Keys     *Field   // map
	Values   *Field   // map
	Fields   []*Field // record (declared order)

	// Validators (Schema.validators_order).
	Eq                       any // with HasEq
	HasEq                    bool
	Ne                       any
	HasNe                    bool
	NotOneOf                 []any
	OneOf                    []any
	Gt                       *float64
	Between                  *[2]float64
	LenEq, LenMin, LenMax    *int
	StartsWith               *string
	NotMatch                 *string
	MatchNone                []MatchRule
	Match                    *string
	MatchAll                 []MatchRule
	MatchAny                 *MatchAny
	Contains                 any
	HasContains              bool
	CustomValidator          *Func
	MutuallyExclusiveSubsets [][]string
	// NativeValidator is a custom_validator written in Go (legacy `url`
	// fields, typedefs implemented by the host); it runs in the
	// custom_validator slot, after CustomValidator, and returns ok, or the
	// message ("" gives Kong's "failed validating: <v>").
	NativeValidator func(v any) (ok bool, msg string)

	Err string // overrides a validator's message

	EntityChecks    []EntityCheck
	ShorthandFields []*ShorthandField

	Description      string
	Examples         []any
	Deprecation      map[string]any
	JSONSchema       map[string]any
	GenerateAdminAPI *bool

	// record is the schema of a record field, built by Prepare.
	record *Schema
}

// MatchRule is one entry of match_all / match_none.
type MatchRule struct {
	Pattern string
	Err     string
}

// MatchAny is the match_any validator argument.
type MatchAny struct {
	Patterns []string
	Err      string
}

// EntityCheck is one entry of entity_checks: exactly one checker name with its
// argument, kept in the value model (names, nested tables, *Func for fn).
type EntityCheck struct {
	Name string // at_least_one_of, only_one_of, conditional, custom_entity_check, ...
	Arg  any
}

// ShorthandField is an input-only alias (shorthand_fields).
type ShorthandField struct {
	Field              *Field
	Func               *Func
	TranslateBackwards []string
	// Legacy marks a Kong 2.8 `shorthands` entry ({ name = fn }): the value
	// is not validated and the function's results overwrite fields as they
	// are (no record merge).
	Legacy bool
}

// Transformation is one entry of transformations.
type Transformation struct {
	Input   []string
	Needs   []string
	OnWrite *Func
	OnRead  *Func
}

// Schema is an entity schema or a plugin config (sub)schema.
type Schema struct {
	Name               string
	PrimaryKey         []string
	Workspaceable      bool
	EndpointKey        string
	CacheKey           []string
	TTL                bool
	DBExport           bool // default true
	SubschemaKey       string
	SubschemaError     string
	GenerateAdminAPI   bool // default true
	AdminAPIName       string
	AdminAPINestedName string
	TableName          string // defaults to Name
	DAO                string // custom DAO module name
	Fields             []*Field
	EntityChecks       []EntityCheck
	ShorthandFields    []*ShorthandField
	Transformations    []Transformation
	Check              *Func

	// Subschemas by subschema_key value (plugins: plugin name -> config schema).
	Subschemas map[string]*Schema

	// Origin names where the definition came from, for error messages
	// ("plugin myplugin, daos.lua").
	Origin string

	// Constraints are the foreign fields of other entities that reference
	// this one (Kong's schema constraints, used for on_delete), filled by
	// Registry.NewEntity.
	Constraints []Constraint

	// IsSubschema is set on subschemas (plugin config schemas).
	IsSubschema bool

	byName map[string]*Field
	cache  *schemaCache // built by Prepare
	// goCheck is a check function written in Go (the MetaSchema's).
	goCheck func(input map[string]any) map[string]any
	// merged is, on a subschema, the parent's fields with this subschema's
	// specialisations (built by NewSubschema).
	merged []*Field
}

// Constraint is one foreign field of another entity pointing at a schema.
type Constraint struct {
	Schema    *Schema // the referencing (child) entity
	FieldName string  // its foreign field
	OnDelete  string  // "cascade", "null", "restrict" or ""
}

// Field returns the top-level field named name, or nil.
func (s *Schema) Field(name string) *Field {
	if s.byName != nil {
		return s.byName[name]
	}
	for _, f := range s.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// Index builds the by-name lookup; call it once the schema is complete and
// before it is shared between goroutines.
func (s *Schema) Index() {
	m := make(map[string]*Field, len(s.Fields))
	for _, f := range s.Fields {
		m[f.Name] = f
	}
	s.byName = m
}

// schemaCache memoizes what validation derives from a prepared schema
// (conditional match fields), shared by goroutines.
type schemaCache struct {
	match sync.Map // matchKey -> *Field
}

type matchKey struct {
	check *EntityCheck
	which string
	base  *Field
}

// Table returns the SQL table name.
func (s *Schema) Table() string {
	if s.TableName != "" {
		return s.TableName
	}
	return s.Name
}
