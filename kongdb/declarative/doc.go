// Package declarative reads and writes Kong's declarative configuration
// (kong.yml): the file format of Kong's DB-less mode and of `kong config`
// — _format_version "3.0" (and "2.1"/"1.1", upgraded on the fly), entities
// nested under the entities they reference, foreign keys by name or id,
// plugins' own entities (credentials under consumers), _transform — over
// kongdb's schemas and DAO.
//
// Parse checks a file and lists every error with Kong's messages (*Error);
// Config.Replace makes a store hold exactly the file (the embedded store's
// declarative_config, POST /config), Config.Import upserts it (db_import);
// Export writes a store's contents back as a file (db_export).
//
// Beyond Kong's DB-less mode, a replaced store stays writable, and Export
// writes what was changed since. Like kongdb, it must not import
// gopher-lua.
package declarative
