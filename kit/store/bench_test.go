package store_test

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/kit/store"
)

// seedHistory gives user 1 of a fresh store n payments (and a second user
// as many), inserted in batches inside transactions.
func seedHistory(b *testing.B, dsn string, n int) (*store.Store, int64) {
	b.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var ids []int64
	for _, name := range []string{"alice", "bob"} {
		u, err := s.CreateUser(ctx, store.User{Username: name, PasswordHash: "x"})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	db := s.SQL()
	// Multi-row inserts of rowsPer rows, batch rows per transaction.
	const rowsPer, batch = 250, 10_000
	stmtFor := func(rows int) string {
		var sb strings.Builder
		sb.WriteString(`INSERT INTO kit_payments (id, user_id, direction, transfer_id, counterparty, source_amount, destination_amount, state, created_at) VALUES `)
		for i := 0; i < rows; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`(?, ?, ?, ?, ?, ?, ?, 'success', ?)`)
		}
		return s.Rebind(sb.String())
	}
	full := stmtFor(rowsPer)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var args []any
	flush := func(tx *stdsql.Tx) {
		if len(args) == 0 {
			return
		}
		q := full
		if n := len(args) / 8; n != rowsPer {
			q = stmtFor(n)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
		args = args[:0]
	}
	for start := 0; start < n; start += batch {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := start; i < min(start+batch, n); i++ {
			for j, uid := range ids {
				dir := "outgoing"
				if i%3 == 0 {
					dir = "incoming"
				}
				args = append(args, fmt.Sprintf("%d:%08d", uid, i), uid, dir, fmt.Sprintf("t%d-%d", j, i), "bob@example", 1000+i%97, 990, base+int64(i)*1000)
				if len(args) == rowsPer*8 {
					flush(tx)
				}
			}
		}
		flush(tx)
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return s, ids[0]
}

// BenchmarkHistory pages through a history of 1,000,000 payments (per
// user, two users) 20 at a time from random positions, as the history
// endpoint does, and reports the p95 latency of a page.
func BenchmarkHistory(b *testing.B) {
	for _, db := range []struct {
		name string
		dsn  func(testing.TB) string
	}{
		{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "kit.db") }},
		{"postgres", func(tb testing.TB) string { return pgtest.DSN(tb) }},
	} {
		// Seeded once for every run of the sub-benchmark (the testing
		// package runs it once with b.N = 1 before the measured run).
		const n = 1_000_000
		s, user := seedHistory(b, db.dsn(b), n)
		b.Run(db.name, func(b *testing.B) {
			ctx := context.Background()
			base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pos := (i * 7919) % n
				cur := store.Cursor{}
				if i%4 != 0 { // a quarter of the requests are the first page
					cur = store.Cursor{CreatedAt: base.Add(time.Duration(pos) * time.Second), ID: fmt.Sprintf("%d:%08d", user, pos)}
				}
				t0 := time.Now()
				page, err := s.Payments(ctx, user, cur, 20)
				lat = append(lat, time.Since(t0))
				if err != nil || len(page) == 0 {
					b.Fatalf("page at %d: %d rows, %v", pos, len(page), err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*95/100])/float64(time.Millisecond), "p95-ms")
		})
	}
}
