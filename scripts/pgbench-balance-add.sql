-- pgbench script: one balance credit, the same conditional UPDATE the SQL
-- backend runs for Balance.Add in PostgreSQL (backend/sql/postgres.go,
-- pgAddSQL), on one of :hot rows "balance__hot0".. of the 2.x store table.
-- Variables (pgbench -D): hot (number of hot rows), max (the limit).
-- Run by scripts/bench-pg with -M prepared, so the values are parameters as
-- in the backend. The only difference: "updatedAt" comes from now() here and
-- from the backend's clock there.
\set k random(0, :hot - 1)
\set n random(1, 100)
UPDATE "plugin_store_bench.s" SET "value" = ("value"::numeric + :n)::text, "updatedAt" = now()
WHERE "key" = 'balance__hot' || :k AND CASE WHEN "value" ~ '^[-+]?[0-9]+$' THEN "value"::numeric + :n <= :max ELSE false END
RETURNING "value";
