package schema

import (
	"fmt"
	"sync"
)

// Registry holds the entity schemas of one kong.db (Kong keeps them in a
// module-level cache; we keep one per DB so tests and nodes do not share).
// Foreign fields resolve against it, and a referenced schema learns its
// constraints (who points at it, with which on_delete).
type Registry struct {
	mu      sync.RWMutex
	schemas map[string]*Schema
	order   []string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{schemas: map[string]*Schema{}} }

// Get returns the entity schema named name, or nil.
func (r *Registry) Get(name string) *Schema {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.schemas[name]
}

// Names lists the registered entities in registration order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

// NewEntity checks and registers an entity schema (Kong's Entity.new):
// foreign fields must reference a registered entity ("schema refers to an
// invalid foreign entity: x"), entities cannot have nilable or function
// fields, map keys must be strings, and records become required unless the
// definition said otherwise. It also checks the definition rules of
// CheckDefinition. Re-registering a name replaces the schema but keeps its
// constraints.
func (r *Registry) NewEntity(s *Schema) error {
	if err := EntityRules(s); err != nil {
		return err
	}
	if err := CheckDefinition(s); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.resolveForeign(s, false); err != nil {
		return err
	}
	if old := r.schemas[s.Name]; old != nil {
		s.Constraints = old.Constraints
	} else {
		r.order = append(r.order, s.Name)
	}
	r.schemas[s.Name] = s
	Prepare(s)
	return nil
}

// EntityRules are Kong's Entity.new checks on top-level fields (a fields
// table, no nilable or function fields, string map keys) and its
// records-required rule, which it applies to s. The one definition of
// them: the registry and pdk's kong.db.schema.entities.new both use it.
func EntityRules(s *Schema) error {
	if s.Fields == nil {
		return fmt.Errorf("error in schema definition: no 'fields' table")
	}
	for _, f := range s.Fields {
		if f.Nilable {
			return fmt.Errorf(MsgNoNilable, f.Name)
		}
		if f.Abstract {
			continue
		}
		switch f.Type {
		case TypeMap:
			if f.Keys == nil || f.Keys.Type != TypeString {
				return fmt.Errorf(MsgMapKeyStrings, f.Name)
			}
		case TypeRecord:
			makeRecordsRequired(f)
		case TypeFunction:
			return fmt.Errorf(MsgNoFunctions, f.Name)
		}
	}
	return nil
}

// SubschemaRules are Kong's Entity.new_subschema checks of def as parent's
// subschema for key (parent has a subschema_key; def's records become
// required; each field exists in parent with a compatible type; abstract
// required fields of parent are specialised). The one definition of them,
// for the registry and pdk alike.
func SubschemaRules(parent *Schema, key string, def *Schema) error {
	if parent.SubschemaKey == "" {
		return fmt.Errorf(MsgSubschemaBadParent, key, parent.Name)
	}
	for _, f := range def.Fields {
		if f.Type == TypeRecord {
			makeRecordsRequired(f)
		}
	}
	for _, f := range def.Fields {
		pf := parent.Field(f.Name)
		if pf == nil {
			return fmt.Errorf(MsgSubschemaBadField, key, f.Name)
		}
		if !compatibleFields(pf, f) {
			return fmt.Errorf(MsgSubschemaBadType, key, f.Name)
		}
	}
	for _, pf := range parent.Fields {
		if pf.Abstract && pf.Required && def.Field(pf.Name) == nil {
			return fmt.Errorf(MsgSubschemaUndefinedField, key, pf.Name)
		}
	}
	return nil
}

// FinishSubschema marks def as a subschema of parent, prepares it and
// computes its fields merged over parent's (what validation walks). It
// does not attach def to parent.
func FinishSubschema(parent, def *Schema) {
	def.IsSubschema = true
	Prepare(def)
	def.merged = make([]*Field, len(parent.Fields))
	for i, pf := range parent.Fields {
		if sf := def.Field(pf.Name); sf != nil {
			def.merged[i] = sf
		} else {
			def.merged[i] = pf
		}
	}
}

// makeRecordsRequired is Entity's make_records_required.
func makeRecordsRequired(f *Field) {
	if !f.RequiredSet {
		f.Required = true
		f.RequiredSet = true
	}
	for _, sf := range f.Fields {
		if sf.Type == TypeRecord {
			makeRecordsRequired(sf)
		}
	}
}

// resolveForeign sets RefSchema on foreign fields and, for entities,
// registers the constraint on the referenced schema. Caller holds r.mu.
func (r *Registry) resolveForeign(s *Schema, isSubschema bool) error {
	for _, f := range s.Fields {
		if f.Type != TypeForeign {
			continue
		}
		ref := r.schemas[f.Reference]
		if ref == nil && f.Reference == s.Name {
			ref = s // self-reference
		}
		if ref == nil {
			return fmt.Errorf(MsgBadReference, f.Reference)
		}
		f.RefSchema = ref
		if isSubschema || s.Name == "" {
			continue
		}
		c := Constraint{Schema: s, FieldName: f.Name, OnDelete: f.OnDelete}
		replaced := false
		for i, old := range ref.Constraints {
			if old.Schema.Name == s.Name {
				ref.Constraints[i] = c
				replaced = true
			}
		}
		if !replaced {
			ref.Constraints = append(ref.Constraints, c)
		}
	}
	return nil
}

// NewSubschema checks def against parent and registers it as parent's
// subschema for key (Kong's Entity.new_subschema, used for plugin config
// schemas keyed by plugin name). Records become required, every field must
// exist in the parent with a compatible type, and abstract required
// parent fields must be specialised.
func (r *Registry) NewSubschema(parent *Schema, key string, def *Schema) error {
	if err := SubschemaRules(parent, key, def); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.resolveForeign(def, true); err != nil {
		return err
	}
	FinishSubschema(parent, def)
	if parent.Subschemas == nil {
		parent.Subschemas = map[string]*Schema{}
	}
	parent.Subschemas[key] = def
	return nil
}

func compatibleFields(p, f *Field) bool {
	if p.Type == TypeRecord && f.Type == TypeJSON {
		return true
	}
	if p.Type != f.Type {
		return false
	}
	switch p.Type {
	case TypeArray, TypeSet:
		return p.Elements == nil || f.Elements == nil || p.Elements.Type == f.Elements.Type
	case TypeMap:
		if p.Keys == nil || f.Keys == nil || p.Values == nil || f.Values == nil {
			return true
		}
		return p.Keys.Type == f.Keys.Type && p.Values.Type == f.Values.Type
	}
	return true
}

// Prepare indexes a schema and the schemas of its record fields, so that
// validation allocates nothing for them. Call it (NewEntity and
// NewSubschema do) before sharing the schema between goroutines.
func Prepare(s *Schema) {
	s.Index()
	if s.cache == nil {
		s.cache = &schemaCache{}
	}
	for _, f := range s.Fields {
		prepareField(f)
	}
	for _, sf := range s.ShorthandFields {
		if sf.Field != nil {
			prepareField(sf.Field)
		}
	}
}

func prepareField(f *Field) {
	if f.record != nil {
		return // prepared already (recursive definitions: the MetaSchema)
	}
	if f.Type == TypeRecord && f.Fields != nil {
		f.record = newRecordSchema(f)
		Prepare(f.record)
	}
	for _, sub := range []*Field{f.Elements, f.Keys, f.Values} {
		if sub != nil {
			prepareField(sub)
		}
	}
}
