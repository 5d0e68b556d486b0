package check

import (
	"fmt"
	"sort"
)

// lintDaos checks the order of daos.lua: Kong registers entities in the
// order it reads them, and a foreign key to an entity not registered yet
// fails the start ("schema refers to an invalid foreign entity"). A map
// is read in pairs() order, different from run to run (Kong/kong#7911).
func (p *plugin) lintDaos() {
	defs := p.desc.EntityDefs
	if len(defs) == 0 {
		return
	}
	own := map[string]int{}
	for i, d := range defs {
		if n, ok := d["name"].(string); ok {
			own[n] = i
		}
	}
	f := p.file("daos.lua")
	if p.desc.MapDaos {
		found := false
		for _, d := range sortedDefs(defs) {
			name, _ := d["name"].(string)
			for _, fr := range foreignFields(d) {
				if _, ok := own[fr[1]]; ok && fr[1] != name {
					found = true
					p.add(Finding{File: "daos.lua", Line: p.fieldLine(name, fr[0]), Severity: Error, Code: "fk-order",
						Message: fmt.Sprintf("daos.lua returns a map, and entity '%s' references '%s' through '%s': Kong loads a map in random order and fails to start when '%s' comes first", name, fr[1], fr[0], name),
						Kong:    "Kong/kong#7911",
						Fix:     fmt.Sprintf("return an array of schemas with '%s' before '%s'", fr[1], name)})
				}
			}
		}
		if !found {
			p.add(Finding{File: "daos.lua", Line: f.lastReturn(), Severity: Warning, Code: "daos-map-form",
				Message: "daos.lua returns a map of schemas: Kong 2.x warns that it is deprecated and Kong 3.x refuses it",
				Kong:    "Kong/kong#7911", Fix: "return an array of schemas, referenced entities first"})
		}
		return
	}
	for i, d := range defs {
		name, _ := d["name"].(string)
		for _, fr := range foreignFields(d) {
			if j, ok := own[fr[1]]; ok && j > i {
				p.add(Finding{File: "daos.lua", Line: p.fieldLine(name, fr[0]), Severity: Error, Code: "fk-order",
					Message: fmt.Sprintf("entity '%s' references '%s' through '%s', declared after it: Kong fails to start (schema refers to an invalid foreign entity)", name, fr[1], fr[0]),
					Kong:    "Kong/kong#7911",
					Fix:     fmt.Sprintf("move '%s' before '%s' in daos.lua", fr[1], name)})
			}
		}
	}
}

func sortedDefs(defs []map[string]any) []map[string]any {
	out := append([]map[string]any(nil), defs...)
	sort.SliceStable(out, func(i, j int) bool {
		a, _ := out[i]["name"].(string)
		b, _ := out[j]["name"].(string)
		return a < b
	})
	return out
}

// lintNames finds names that clash with Kong's own: the plugin's name
// with a bundled plugin (Kong/kong#14144), its entities and tables with
// core entities and bundled plugins' entities, its fields with core
// entity names (a field named plugins breaks declarative config,
// Kong/kong#7160).
func (p *plugin) lintNames() {
	if bundledPlugins[p.name] {
		p.add(Finding{File: "handler.lua", Line: 1, Severity: Warning, Code: "name-clash",
			Message: fmt.Sprintf("plugin name '%s' is the name of a plugin bundled with Kong: whichever comes first on lua_package_path runs, and their migrations share one subsystem", p.name),
			Kong:    "Kong/kong#14144", Fix: "rename the plugin (directory, schema.lua name, migrations) unless it is meant to replace the bundled one"})
	}
	for _, d := range p.desc.EntityDefs {
		name, _ := d["name"].(string)
		names := []string{name}
		if t, ok := d["table_name"].(string); ok && t != name {
			names = append(names, t)
		}
		for _, n := range names {
			switch {
			case coreEntities[n] || coreTables[n]:
				p.add(Finding{File: "daos.lua", Line: p.entityLine(name), Severity: Error, Code: "name-clash",
					Message: fmt.Sprintf("entity '%s' uses the name '%s' of a Kong core entity or table: its DAO and table clash with Kong's", name, n),
					Fix:     "prefix the entity name with the plugin's, e.g. '" + underscore(p.name) + "_" + n + "'"})
			case bundledEntities[n] != "" && bundledEntities[n] != p.name:
				p.add(Finding{File: "daos.lua", Line: p.entityLine(name), Severity: Error, Code: "name-clash",
					Message: fmt.Sprintf("entity '%s' uses the name '%s' of an entity of Kong's bundled plugin '%s': enabling both breaks migrations and the DAO", name, n, bundledEntities[n]),
					Kong:    "Kong/kong#14144",
					Fix:     "prefix the entity name with the plugin's, e.g. '" + underscore(p.name) + "_" + n + "'"})
			}
		}
		fields, _ := d["fields"].([]any)
		for _, f := range fields {
			m, _ := f.(map[string]any)
			for fname := range m {
				if coreEntities[fname] && fname != "tags" {
					p.add(Finding{File: "daos.lua", Line: p.fieldLine(name, fname), Severity: Error, Code: "name-clash",
						Message: fmt.Sprintf("entity '%s' has a field named '%s', the name of a core entity: declarative config reads it as nested '%s' entities and Kong fails to start", name, fname, fname),
						Kong:    "Kong/kong#7160", Fix: "rename the field"})
				}
			}
		}
	}
}

func underscore(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}
