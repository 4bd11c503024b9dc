package sql_test

import (
	"context"
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
