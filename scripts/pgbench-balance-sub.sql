-- pgbench script: one balance debit, the same conditional UPDATE the SQL
-- backend runs for Balance.Sub in PostgreSQL (backend/sql/postgres.go,
-- pgSubSQL). See pgbench-balance-add.sql; :min is the lower limit.
\set k random(0, :hot - 1)
\set n random(1, 100)
UPDATE "plugin_store_bench.s" SET "value" = ("value"::numeric - :n)::text, "updatedAt" = now()
WHERE "key" = 'balance__hot' || :k AND CASE WHEN "value" ~ '^[-+]?[0-9]+$' THEN "value"::numeric - :n >= :min ELSE false END
RETURNING "value";
