package store

import stdsql "database/sql"

// SQL gives tests the database handle (bulk fixtures for benchmarks).
func (s *Store) SQL() *stdsql.DB { return s.db }

// Rebind gives tests the dialect's placeholders.
func (s *Store) Rebind(q string) string { return s.q(q) }
