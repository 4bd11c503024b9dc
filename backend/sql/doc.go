// Package sql is the SQL PluginBackend: it keeps each stateful plugin's
// balances and transfer log in SQLite (pure Go, no cgo; the embedded default)
// or PostgreSQL (pgx; for several processes sharing one database), in the
// store layout of ILP Kit 2.x, so a 2.x database keeps working.
//
// # Layout
//
// One table per plugin, named after the plugin's ILP prefix as the 2.x
// connector's Sequelize model named it (pluralised with a trailing "s"):
//
//	CREATE TABLE "plugin_store_<prefix>s" (
//	    "key"       TEXT PRIMARY KEY,
//	    "value"     TEXT,
//	    "createdAt" timestamptz NOT NULL,  -- DATETIME in SQLite
//	    "updatedAt" timestamptz NOT NULL
//	)
//
// Rows: "balance__<name>" holds the balance as a decimal integer string
// (it may exceed 64 bits: balances are ledger.Int128), and "transfer_<id>"
// holds the JSON {"transfer","state","isIncoming","fulfillment","written"}
// of ledger.MarshalRecord, with the states "prepared", "executed" and
// "cancelled". SQLite timestamps are written as Sequelize wrote them there
// ("2006-01-02 15:04:05.000 +00:00").
//
// # Atomicity
//
// PostgreSQL: a balance change is one conditional statement,
//
//	UPDATE t SET value = (value::numeric + $1)::text ... WHERE key = $2
//	  AND <value is an integer> AND value::numeric + $1 <= $max RETURNING value
//
// whose RETURNING value is the balance the change produced; when it returns
// no row the value is read to tell a missing row (created as "0", then the
// statement is retried), a limit or an overflow (ledger.Change.Apply gives
// the error) or a change that raced with another (retried). The Int128 range
// is enforced by always passing a bound: the limit or the Int128 extreme. A
// transfer state change runs in one READ COMMITTED transaction that locks the
// transfer row first (SELECT ... FOR UPDATE, or INSERT ... ON CONFLICT DO
// NOTHING for a new transfer) and then changes its balances in a fixed order
// (sorted by name), so two transactions never wait on each other in a cycle.
// The record's write and the balance statements are sent as one pipeline, so
// hot balance rows stay locked for one round trip and the commit; when a
// balance statement matches no row, the transaction is rolled back and run
// again one statement at a time, which tells a missing row from a refusal.
//
// SQLite: arithmetic on TEXT is only 64-bit there, so every write is a
// BEGIN IMMEDIATE transaction that reads the values, computes with
// ledger.Change.Apply in Go, checks every refusal before it writes anything,
// and then writes. BEGIN IMMEDIATE takes the database's write lock, which
// serialises writers across processes sharing the file (busy_timeout makes
// them wait instead of failing). In one process all writes go through one
// connection owned by a writer goroutine, which commits the operations that
// queued up while it was busy together in one transaction (group commit);
// as a refused operation has written nothing, it does not disturb the others
// in its group, and when a statement fails the group is rolled back and its
// operations are run again one per transaction. The file is in WAL mode with
// synchronous=NORMAL: a commit is atomic and consistent across a process
// crash, but the last commits before a power loss may be lost. Reads use a
// separate pool of read-only connections.
//
// Cached values (Balance.Get, TransferLog.GetCached) may be stale when other
// processes write; money decisions use the results of Add, Sub and the
// transfer log operations, which come from the statement that made them.
package sql
