// Package sqlitedb holds what Portico's SQLite stores share: numbered, embedded migrations
// applied once on open (Migrate), and a checkpointer that copies the write-ahead log into the
// database file off every request's path (Checkpointer).
//
// The quota store (services/store/sqlitestore) and the conversation store
// (services/conversation/sqlitestore) each keep their own file, migrations and version table;
// this package is the one place those mechanics are written.
package sqlitedb
