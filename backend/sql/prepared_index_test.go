package sql_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// TestPreparedIndex: each store table has a partial index of its
// prepared transfers, and the query that lists them (run after a restart,
// when a trustline client connects, when another process takes over) can
// use it rather than reading the whole history.
func TestPreparedIndex(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			db := openDB(t, dsn)
			if _, err := db.Backend(context.Background(), prefix); err != nil {
				t.Fatal(err)
			}
			r := openRaw(t, dsn)
			q := `SELECT "value" FROM "` + table + `" WHERE substr("key", 1, 9) = 'transfer_' AND "value" LIKE '%"prepared"%' ORDER BY "key"`
			var plan []string
			if r.pg != nil {
				ctx := context.Background()
				if _, err := r.pg.Exec(ctx, `SET enable_seqscan = off`); err != nil {
					t.Fatal(err)
				}
				rows, err := r.pg.Query(ctx, `EXPLAIN `+q)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var line string
					if err := rows.Scan(&line); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, line)
				}
				rows.Close()
			} else {
				rows, err := r.sqlite.Query(`EXPLAIN QUERY PLAN ` + q)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id, parent, unused int
					var detail string
					if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, detail)
				}
				rows.Close()
			}
			if !strings.Contains(strings.Join(plan, "\n"), "ilpkit_prepared_") {
				t.Errorf("the prepared transfers are listed without their index:\n%s", strings.Join(plan, "\n"))
			}
		})
	}
}

// BenchmarkPreparedAmongHistory lists the prepared transfers of a table
// holding 1,000,000 finished ones and 100 prepared ones: what a trustline
// client's connect and a takeover cost.
func BenchmarkPreparedAmongHistory(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			dsn := d.dsn(b)
			db := openDB(b, dsn)
			be, err := db.Backend(context.Background(), prefix)
			if err != nil {
				b.Fatal(err)
			}
			r := openRaw(b, dsn)
			const history, open = 1_000_000, 100
			fill := `INSERT INTO "` + table + `" ("key", "value", "createdAt", "updatedAt")
				SELECT 'transfer_' || n, CASE WHEN n % ` + strconv.Itoa(history/open) + ` = 0
					THEN '{"transfer":{"id":"' || n || '","amount":"1"},"state":"prepared","isIncoming":true,"fulfillment":null}'
					ELSE '{"transfer":{"id":"' || n || '","amount":"1"},"state":"executed","isIncoming":true,"fulfillment":"x"}' END,
					CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM `
			if r.pg != nil {
				r.exec(fill + `generate_series(1, ` + strconv.Itoa(history) + `) AS g(n)`)
				r.exec(`ANALYZE "` + table + `"`)
			} else {
				r.exec(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ` + strconv.Itoa(history) + `) ` + fill + `g`)
				r.exec(`ANALYZE`)
			}
			log := be.TransferLog()
			b.ResetTimer()
			for b.Loop() {
				recs, err := log.Prepared(context.Background())
				if err != nil || len(recs) != open {
					b.Fatalf("%d prepared, %v", len(recs), err)
				}
			}
		})
	}
}
