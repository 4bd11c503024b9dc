package sql_test

import (
	"context"
	stdsql "database/sql"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for raw access
)

// rawDB reaches a store's tables directly, without the backend: to build
// 2.x fixtures and to check what the backend wrote. Statements use $1, $2...
type rawDB struct {
	tb     testing.TB
	sqlite *stdsql.DB
	pg     *pgx.Conn
}

var dollar = regexp.MustCompile(`\$(\d+)`)

func openRaw(tb testing.TB, dsn string) *rawDB {
	tb.Helper()
	r := &rawDB{tb: tb}
	ctx := context.Background()
	var err error
	if strings.HasPrefix(dsn, "postgres") {
		r.pg, err = pgx.Connect(ctx, dsn)
	} else {
		r.sqlite, err = stdsql.Open("sqlite", dsn+"?_pragma=busy_timeout(10000)")
	}
	if err != nil {
		tb.Fatalf("raw open: %v", err)
	}
	tb.Cleanup(r.close)
	return r
}

func (r *rawDB) close() {
	if r.pg != nil {
		r.pg.Close(context.Background())
	}
	if r.sqlite != nil {
		r.sqlite.Close()
	}
}

func (r *rawDB) exec(q string, args ...any) {
	r.tb.Helper()
	var err error
	if r.pg != nil {
		_, err = r.pg.Exec(context.Background(), q, args...)
	} else {
		_, err = r.sqlite.Exec(dollar.ReplaceAllString(q, "?$1"), args...)
	}
	if err != nil {
		r.tb.Fatalf("raw exec %q: %v", q, err)
	}
}

// row is one stored row.
type row struct {
	value     *string
	createdAt time.Time
	updatedAt time.Time
}

// get reads one row of table, or reports false.
func (r *rawDB) get(table, key string) (row, bool) {
	r.tb.Helper()
	q := `SELECT "value", "createdAt", "updatedAt" FROM "` + table + `" WHERE "key" = $1`
	var out row
	if r.pg != nil {
		err := r.pg.QueryRow(context.Background(), q, key).Scan(&out.value, &out.createdAt, &out.updatedAt)
		if err == pgx.ErrNoRows {
			return row{}, false
		}
		if err != nil {
			r.tb.Fatalf("raw get %s: %v", key, err)
		}
		return out, true
	}
	var c, u string
	err := r.sqlite.QueryRow(dollar.ReplaceAllString(q, "?$1"), key).Scan(&out.value, &c, &u)
	if err == stdsql.ErrNoRows {
		return row{}, false
	}
	if err != nil {
		r.tb.Fatalf("raw get %s: %v", key, err)
	}
	for _, p := range []struct {
		s string
		t *time.Time
	}{{c, &out.createdAt}, {u, &out.updatedAt}} {
		t, err := time.Parse("2006-01-02 15:04:05.000 -07:00", p.s)
		if err != nil {
			r.tb.Fatalf("raw get %s: time %q: %v", key, p.s, err)
		}
		*p.t = t
	}
	return out, true
}

// keys lists the keys of table in order.
func (r *rawDB) keys(table string) []string {
	r.tb.Helper()
	q := `SELECT "key" FROM "` + table + `" ORDER BY "key"`
	var out []string
	if r.pg != nil {
		rows, err := r.pg.Query(context.Background(), q)
		if err != nil {
			r.tb.Fatal(err)
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			r.tb.Fatal(err)
		}
		return out
	}
	rows, err := r.sqlite.Query(q)
	if err != nil {
		r.tb.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			r.tb.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

// ddl2x is the table Sequelize created for the 2.x connector's plugin
// store, per dialect.
func (r *rawDB) ddl2x(table string) string {
	if r.pg != nil {
		return `CREATE TABLE IF NOT EXISTS "` + table + `" ("key" TEXT , "value" TEXT, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY ("key"))`
	}
	return "CREATE TABLE IF NOT EXISTS `" + table + "` (`key` TEXT PRIMARY KEY, `value` TEXT, `createdAt` DATETIME NOT NULL, `updatedAt` DATETIME NOT NULL)"
}

// timeArg is a timestamp as the dialect's 2.x writer stored it.
func (r *rawDB) timeArg(t time.Time) any {
	if r.pg != nil {
		return t
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 -07:00")
}
