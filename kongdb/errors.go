package kongdb

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/luahost/luahost/kongdb/schema"
)

// Code is a Kong DAO error code (kong/db/errors.lua).
type Code int

const (
	InvalidPrimaryKey     Code = 1
	SchemaViolation       Code = 2
	PrimaryKeyViolation   Code = 3
	ForeignKeyViolation   Code = 4
	UniqueViolation       Code = 5
	NotFound              Code = 6
	InvalidOffset         Code = 7
	DatabaseError         Code = 8
	InvalidSize           Code = 9
	InvalidUnique         Code = 10
	InvalidOptions        Code = 11
	OperationUnsupported  Code = 12
	ForeignKeysUnresolved Code = 13
	DeclarativeConfig     Code = 14
	TransformationError   Code = 15
	InvalidForeignKey     Code = 16
	InvalidWorkspace      Code = 17
	InvalidUniqueGlobal   Code = 18
	ReferencedByOthers    Code = 19
)

// CodeNames maps each code to Kong's constant name (kong.db.errors.codes.X).
var CodeNames = map[Code]string{
	InvalidPrimaryKey: "INVALID_PRIMARY_KEY", SchemaViolation: "SCHEMA_VIOLATION",
	PrimaryKeyViolation: "PRIMARY_KEY_VIOLATION", ForeignKeyViolation: "FOREIGN_KEY_VIOLATION",
	UniqueViolation: "UNIQUE_VIOLATION", NotFound: "NOT_FOUND", InvalidOffset: "INVALID_OFFSET",
	DatabaseError: "DATABASE_ERROR", InvalidSize: "INVALID_SIZE", InvalidUnique: "INVALID_UNIQUE",
	InvalidOptions: "INVALID_OPTIONS", OperationUnsupported: "OPERATION_UNSUPPORTED",
	ForeignKeysUnresolved: "FOREIGN_KEYS_UNRESOLVED", DeclarativeConfig: "DECLARATIVE_CONFIG",
	TransformationError: "TRANSFORMATION_ERROR", InvalidForeignKey: "INVALID_FOREIGN_KEY",
	InvalidWorkspace: "INVALID_WORKSPACE", InvalidUniqueGlobal: "INVALID_UNIQUE_GLOBAL",
	ReferencedByOthers: "REFERENCED_BY_OTHERS",
}

var codeTitles = map[Code]string{
	InvalidPrimaryKey: "invalid primary key", SchemaViolation: "schema violation",
	PrimaryKeyViolation: "primary key violation", ForeignKeyViolation: "foreign key violation",
	UniqueViolation: "unique constraint violation", NotFound: "not found",
	InvalidOffset: "invalid offset", DatabaseError: "database error", InvalidSize: "invalid size",
	InvalidUnique: "invalid unique %s", InvalidOptions: "invalid options",
	OperationUnsupported: "operation unsupported", ForeignKeysUnresolved: "foreign keys unresolved",
	DeclarativeConfig: "invalid declarative configuration", TransformationError: "transformation error",
	InvalidForeignKey: "invalid foreign key", InvalidWorkspace: "invalid workspace",
	InvalidUniqueGlobal: "invalid global query", ReferencedByOthers: "referenced by others",
}

// HTTPStatus is the Admin API status Kong answers for a code (500 when Kong
// has no mapping).
func (c Code) HTTPStatus() int {
	switch c {
	case InvalidPrimaryKey, SchemaViolation, PrimaryKeyViolation, ForeignKeyViolation,
		InvalidOffset, InvalidSize, InvalidUnique, InvalidOptions, ForeignKeysUnresolved,
		ReferencedByOthers:
		return 400
	case UniqueViolation:
		return 409
	case NotFound:
		return 404
	case OperationUnsupported:
		return 405
	}
	return 500
}

// Error mirrors Kong's err_t: code, name, message, strategy, and fields (or
// options for INVALID_OPTIONS). Its Error() is Kong's tostring(err_t).
type Error struct {
	Code       Code
	Name       string
	Message    string
	HasMessage bool   // false: Kong's message = null
	Strategy   string // "postgres", "off"; "" = no prefix
	Fields     any    // map[string]any, usually
	Options    map[string]any
	Err        error // wrapped driver error, if any
}

func (e *Error) Error() string {
	msg := e.Name
	if e.HasMessage {
		msg = e.Message
	}
	if e.Strategy == "" {
		return msg
	}
	return "[" + e.Strategy + "] " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsCode reports whether err is a Kong error with code c.
func IsCode(err error, c Code) bool {
	e, ok := AsError(err)
	return ok && e.Code == c
}

// Errors builds errors for one strategy, as Kong's Errors.new(strategy).
type Errors struct{ Strategy string }

func (es Errors) mk(c Code, msg string, fields any) *Error {
	return &Error{Code: c, Name: codeTitles[c], Message: msg, HasMessage: true, Strategy: es.Strategy, Fields: fields}
}

// Bare returns an err_t with only code, name and strategy (message = null),
// as Kong's lower-case constructors without a dedicated function.
func (es Errors) Bare(c Code) *Error {
	return &Error{Code: c, Name: codeTitles[c], Strategy: es.Strategy}
}

func (es Errors) InvalidPrimaryKey(pkErrors map[string]any) *Error {
	return es.mk(InvalidPrimaryKey, "invalid primary key: '"+Pretty(pkErrors)+"'", pkErrors)
}

func (es Errors) InvalidForeignKey(t map[string]any) *Error {
	return es.mk(InvalidForeignKey, "invalid foreign key: '"+Pretty(t)+"'", t)
}

// SchemaViolation formats Kong's "schema violation (...)" message from an
// error table: @entity messages first, then fields sorted, nested one level.
func (es Errors) SchemaViolation(errs map[string]any) *Error {
	parts := SchemaViolationParts(errs)
	var msg string
	if len(parts) == 1 {
		msg = "schema violation (" + parts[0] + ")"
	} else {
		msg = fmt.Sprintf("%d schema violations (%s)", len(parts), strings.Join(parts, "; "))
	}
	return es.mk(SchemaViolation, msg, errs)
}

// SchemaViolationParts lists the items of a schema violation message.
func SchemaViolationParts(errs map[string]any) []string {
	var parts []string
	if ent, ok := errs["@entity"]; ok {
		switch v := ent.(type) {
		case []any:
			for _, m := range v {
				parts = append(parts, fmt.Sprint(m))
			}
		case []string:
			parts = append(parts, v...)
		default:
			parts = append(parts, fmt.Sprint(v))
		}
	}
	for _, k := range sortedKeys(errs) {
		if k == "@entity" {
			continue
		}
		switch v := errs[k].(type) {
		case map[string]any:
			for _, k2 := range sortedKeys(v) {
				switch v2 := v[k2].(type) {
				case map[string]any, []any:
					parts = append(parts, k+"."+k2+": "+PrettyMultiline(v2))
				default:
					parts = append(parts, k+"."+k2+": "+fmt.Sprint(v2))
				}
			}
		case []any:
			for i, v2 := range v {
				if v2 == nil {
					continue
				}
				switch v3 := v2.(type) {
				case map[string]any, []any:
					parts = append(parts, fmt.Sprintf("%s.%d: %s", k, i+1, PrettyMultiline(v3)))
				default:
					parts = append(parts, fmt.Sprintf("%s.%d: %v", k, i+1, v3))
				}
			}
		default:
			parts = append(parts, k+": "+fmt.Sprint(v))
		}
	}
	return parts
}

func (es Errors) PrimaryKeyViolation(pk map[string]any) *Error {
	return es.mk(PrimaryKeyViolation, "primary key violation on key '"+Pretty(pk)+"'", pk)
}

// ForeignKeyViolationInvalidReference: the child points at a missing parent.
func (es Errors) ForeignKeyViolationInvalidReference(fk map[string]any, field, parent string) *Error {
	return es.mk(ForeignKeyViolation,
		fmt.Sprintf("the foreign key '%s' does not reference an existing '%s' entity.", Pretty(fk), parent),
		map[string]any{field: fk})
}

// ForeignKeyViolationRestricted: a child still references the parent.
func (es Errors) ForeignKeyViolationRestricted(parent, child string) *Error {
	return es.mk(ForeignKeyViolation,
		fmt.Sprintf("an existing '%s' entity references this '%s' entity", child, parent),
		map[string]any{"@referenced_by": child})
}

// ForeignKeysUnresolved takes "field.sub" -> message items.
func (es Errors) ForeignKeysUnresolved(errs map[string]any) *Error {
	parts := SchemaViolationParts(errs)
	var msg string
	if len(parts) == 1 {
		msg = "foreign key unresolved (" + parts[0] + ")"
	} else {
		msg = fmt.Sprintf("%d foreign keys unresolved (%s)", len(parts), strings.Join(parts, "; "))
	}
	return es.mk(ForeignKeysUnresolved, msg, errs)
}

func (es Errors) UniqueViolation(t map[string]any) *Error {
	msg := strings.ReplaceAll(Pretty(t), `"userdata: NULL"`, "null")
	return es.mk(UniqueViolation, "UNIQUE violation detected on '"+msg+"'", t)
}

func (es Errors) NotFound(pk map[string]any) *Error {
	return es.mk(NotFound, "could not find the entity with primary key '"+Pretty(pk)+"'", pk)
}

func (es Errors) NotFoundByField(filter map[string]any) *Error {
	return es.mk(NotFound, "could not find the entity with '"+Pretty(filter)+"'", filter)
}

func (es Errors) InvalidOffset(offset, err string) *Error {
	return es.mk(InvalidOffset, fmt.Sprintf("'%s' is not a valid offset: %s", offset, err), nil)
}

// DatabaseError wraps a driver error; msg "" gives Kong's "database error".
func (es Errors) DatabaseError(msg string, cause error) *Error {
	if msg == "" {
		msg = "database error"
	}
	e := es.mk(DatabaseError, msg, nil)
	e.Err = cause
	return e
}

func (es Errors) TransformationError(msg string) *Error {
	return es.mk(TransformationError, msg, nil)
}

func (es Errors) InvalidSize(msg string) *Error { return es.mk(InvalidSize, msg, nil) }

func (es Errors) InvalidUnique(name, msg string) *Error {
	e := es.mk(InvalidUnique, msg, nil)
	e.Name = fmt.Sprintf(codeTitles[InvalidUnique], name)
	return e
}

// InvalidOptions takes option -> message (nested one level, "pagination.page_size").
func (es Errors) InvalidOptions(opts map[string]any) *Error {
	parts := SchemaViolationParts(opts)
	var msg string
	if len(parts) == 1 {
		msg = "invalid option (" + parts[0] + ")"
	} else {
		msg = fmt.Sprintf("%d option violations (%s)", len(parts), strings.Join(parts, "; "))
	}
	e := es.mk(InvalidOptions, msg, nil)
	e.Options = opts
	return e
}

func (es Errors) OperationUnsupported(msg string) *Error {
	return es.mk(OperationUnsupported, msg, nil)
}

func (es Errors) DeclarativeConfig(t map[string]any) *Error {
	return es.mk(DeclarativeConfig, "declarative config is invalid: "+Pretty(t), t)
}

func (es Errors) InvalidWorkspace(wsID string) *Error {
	return es.mk(InvalidWorkspace, "invalid workspace '"+wsID+"'", nil)
}

func (es Errors) InvalidUniqueGlobal(name string) *Error {
	return es.mk(InvalidUniqueGlobal, "unique key "+name+" is invalid for global query", nil)
}

func (es Errors) ReferencedByOthers(msg string) *Error {
	return es.mk(ReferencedByOthers, msg, nil)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var _ = schema.Null
