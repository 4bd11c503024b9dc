package sql_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/ledger"
)

// The 2.x fixture: the store of a peer plugin (ilp-plugin-virtual) as the
// 2.x connector's Sequelize model kept it (ILPKIT-2X.md sections 3.1, 3.4).
const (
	fixPrefix = "peer.NavKx.usd.2."
	fixTable  = "plugin_store_peer.NavKx.usd.2.s"

	// An incoming transfer, fulfilled: v16 wrote it once, at fulfill, with
	// "written". The transfer carries a field the kit does not use.
	fixExecutedID = "9e97a403-f604-44de-9223-4ec36aa466d9"
	fixExecuted   = `{"transfer":{"id":"9e97a403-f604-44de-9223-4ec36aa466d9","amount":"150","ledger":"peer.NavKx.usd.2.","from":"peer.NavKx.usd.2.Tm9w","to":"peer.NavKx.usd.2.Qk9i","direction":"incoming","ilp":"AYGOAAAAAAAAAJYwZy5leGFtcGxlLmJvYi4","executionCondition":"fx-_0NeXVTpmKvbaHCDgC0c3MMRFH2vuIS27VpQ0Rrg","expiresAt":"2017-06-26T18:18:13.553Z","custom":{}},"state":"executed","isIncoming":true,"fulfillment":"HS8e5Ew02XKAglyus2dh2Ohabuqmy3HDM8EXMLz22ok","written":true}`
	// An outgoing transfer, rejected.
	fixCancelledID = "5a3b7f52-8a8e-4c40-9f0c-5ed0d6bc8b44"
	fixCancelled   = `{"transfer":{"id":"5a3b7f52-8a8e-4c40-9f0c-5ed0d6bc8b44","amount":"70","ledger":"peer.NavKx.usd.2.","from":"peer.NavKx.usd.2.Qk9i","to":"peer.NavKx.usd.2.Tm9w","ilp":"AYGOAAAAAAAAAEYwZy5leGFtcGxlLmJvYi4","executionCondition":"s4rvRWbB2ZnG3PTRVV8xsHRGUG9RBGnR5lJ2WAGuuL8","expiresAt":"2017-06-26T18:20:01.001Z"},"state":"cancelled","isIncoming":false,"fulfillment":null,"written":true}`
	// An outgoing transfer still prepared, as v12-v14 wrote them (no
	// fulfillment, no written).
	fixPreparedID  = "c1a6f5a7-5a9a-4d7f-8b0a-3f5e2c1d0b9e"
	fixPrepared    = `{"transfer":{"id":"c1a6f5a7-5a9a-4d7f-8b0a-3f5e2c1d0b9e","amount":"25","ledger":"peer.NavKx.usd.2.","from":"peer.NavKx.usd.2.Qk9i","to":"peer.NavKx.usd.2.Tm9w","ilp":"AYGOAAAAAAAAABkwZy5leGFtcGxlLmJvYi4","executionCondition":"Zz2dOrnB6aGsYGGm9D1hrL4Y7ZlnLU11nx5TmB2M1r0","expiresAt":"2017-06-26T18:25:00.000Z"},"state":"prepared","isIncoming":false}`
	fixFulfillment = "4R1Mq7pAvZ3ENFrjRyGSQyGGGkz3tAi7nM6iEvcD0tQ"
)

// Test2xFixture builds a 2.x store with raw SQL, reads it through the
// backend, writes to it, and checks the rows are still in the 2.x layout.
func Test2xFixture(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			ctx := context.Background()
			raw := openRaw(t, dsn)
			created := time.Date(2017, 6, 26, 18, 10, 0, 0, time.UTC)
			raw.exec(raw.ddl2x(fixTable))
			for _, r := range [][2]string{
				{"balance__", "-245"},
				{"transfer_" + fixExecutedID, fixExecuted},
				{"transfer_" + fixCancelledID, fixCancelled},
				{"transfer_" + fixPreparedID, fixPrepared},
			} {
				raw.exec(`INSERT INTO "`+fixTable+`" ("key", "value", "createdAt", "updatedAt") VALUES ($1, $2, $3, $3)`, r[0], r[1], raw.timeArg(created))
			}

			clock := &fixedClock{t: time.Date(2017, 7, 1, 9, 30, 0, 0, time.UTC)}
			db := openDB(t, dsn, sqlbackend.WithClock(clock.now))
			if ps, err := db.Prefixes(ctx); err != nil || !slices.Equal(ps, []string{fixPrefix}) {
				t.Fatalf("prefixes %v %v", ps, err)
			}
			b := backendOf(t, db, fixPrefix)

			// Read.
			bal := b.Balance("", ledger.BalanceOptions{Maximum: ledger.Limit(ledger.Int128FromInt64(1000))})
			if err := bal.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			if got := bal.Get().String(); got != "-245" {
				t.Fatalf("balance %s, want -245", got)
			}
			log := b.TransferLog()
			ex, err := log.Get(ctx, fixExecutedID)
			if err != nil {
				t.Fatal(err)
			}
			if ex.State != ledger.StateExecuted || !ex.Incoming || ex.Transfer.Amount != 150 || ex.Fulfillment != "HS8e5Ew02XKAglyus2dh2Ohabuqmy3HDM8EXMLz22ok" ||
				!ex.Transfer.ExpiresAt.Equal(time.Date(2017, 6, 26, 18, 18, 13, 553e6, time.UTC)) {
				t.Fatalf("executed transfer read as %+v", ex)
			}
			if f, err := log.GetFulfillment(ctx, fixExecutedID); err != nil || f != ex.Fulfillment {
				t.Fatalf("fulfillment %q %v", f, err)
			}
			if _, err := log.GetFulfillment(ctx, fixCancelledID); !errors.Is(err, ledger.ErrAlreadyRolledBack) {
				t.Fatalf("fulfillment of the cancelled transfer: %v", err)
			}
			if _, err := log.GetFulfillment(ctx, fixPreparedID); !errors.Is(err, ledger.ErrMissingFulfillment) {
				t.Fatalf("fulfillment of the prepared transfer: %v", err)
			}
			prep, err := log.Prepared(ctx)
			if err != nil || len(prep) != 1 || prep[0].Transfer.ID != fixPreparedID || prep[0].Transfer.Amount != 25 || prep[0].Incoming {
				t.Fatalf("prepared %+v %v", prep, err)
			}
			// The peer repeats the executed transfer: a no-op, so the 2.x
			// body compares equal to the one the peer sends again.
			again := ledger.Transfer{ID: fixExecutedID, Amount: 150, Ledger: fixPrefix, From: fixPrefix + "Tm9w", To: fixPrefix + "Qk9i",
				ILP: "AYGOAAAAAAAAAJYwZy5leGFtcGxlLmJvYi4", ExecutionCondition: "fx-_0NeXVTpmKvbaHCDgC0c3MMRFH2vuIS27VpQ0Rrg",
				ExpiresAt: time.Date(2017, 6, 26, 18, 18, 13, 553e6, time.UTC), Custom: json.RawMessage(`{ }`)}
			res, err := log.Create(ctx, ledger.Record{Transfer: again, Incoming: true})
			if err != nil || res.Applied || res.Record.State != ledger.StateExecuted {
				t.Fatalf("repeat of a 2.x transfer: %+v %v", res, err)
			}
			if _, err := log.Cancel(ctx, fixExecutedID); !errors.Is(err, ledger.ErrAlreadyFulfilled) {
				t.Fatalf("cancel of the executed transfer: %v", err)
			}

			// Write: the outgoing prepared transfer is fulfilled (v16 rule:
			// sub at outgoing fulfill), and a new incoming one arrives.
			res, err = log.Fulfill(ctx, fixPreparedID, fixFulfillment, ledger.Debit(bal, 25))
			if err != nil || !res.Applied || res.Balances[0].String() != "-270" {
				t.Fatalf("fulfill: %+v %v", res, err)
			}
			in := ledger.Record{Incoming: true, Transfer: ledger.Transfer{ID: "0d3e6cf6-bd83-4e70-bd40-3b1e1c5a4a21", Amount: 1300, Ledger: fixPrefix,
				From: fixPrefix + "Tm9w", To: fixPrefix + "Qk9i", ExecutionCondition: "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
				ExpiresAt: time.Date(2017, 7, 1, 9, 31, 0, 0, time.UTC), Custom: json.RawMessage(`{"note":"x"}`)}}
			if _, err := log.Create(ctx, in, ledger.Credit(bal, 1300)); !errors.Is(err, ledger.ErrMaximumExceeded) {
				t.Fatalf("incoming over the peer's limit: %v", err)
			}
			in.Transfer.Amount = 300
			if res, err := log.Create(ctx, in, ledger.Credit(bal, 300)); err != nil || res.Balances[0].String() != "30" {
				t.Fatalf("incoming: %+v %v", res, err)
			}

			// The rows, read raw.
			if keys := raw.keys(fixTable); !slices.Equal(keys, []string{"balance__", "transfer_" + in.Transfer.ID, "transfer_" + fixCancelledID,
				"transfer_" + fixExecutedID, "transfer_" + fixPreparedID}) {
				t.Fatalf("keys %v", keys)
			}
			r, _ := raw.get(fixTable, "balance__")
			if *r.value != "30" || !r.createdAt.Equal(created) || !r.updatedAt.Equal(clock.now()) {
				t.Fatalf("balance row %q %v %v", *r.value, r.createdAt, r.updatedAt)
			}
			for _, key := range []string{"transfer_" + fixExecutedID, "transfer_" + fixCancelledID} {
				r, _ := raw.get(fixTable, key)
				if want := map[string]string{"transfer_" + fixExecutedID: fixExecuted, "transfer_" + fixCancelledID: fixCancelled}[key]; *r.value != want || !r.updatedAt.Equal(created) {
					t.Fatalf("%s was rewritten: %s", key, *r.value)
				}
			}
			r, _ = raw.get(fixTable, "transfer_"+fixPreparedID)
			if !r.createdAt.Equal(created) || !r.updatedAt.Equal(clock.now()) {
				t.Fatalf("fulfilled row timestamps %v %v", r.createdAt, r.updatedAt)
			}
			check2x(t, *r.value, map[string]any{
				"state": "executed", "isIncoming": false, "fulfillment": fixFulfillment, "written": true,
			}, map[string]any{
				"id": fixPreparedID, "amount": "25", "ledger": fixPrefix, "from": fixPrefix + "Qk9i", "to": fixPrefix + "Tm9w",
				"ilp": "AYGOAAAAAAAAABkwZy5leGFtcGxlLmJvYi4", "executionCondition": "Zz2dOrnB6aGsYGGm9D1hrL4Y7ZlnLU11nx5TmB2M1r0",
				"expiresAt": "2017-06-26T18:25:00.000Z",
			})
			r, _ = raw.get(fixTable, "transfer_"+in.Transfer.ID)
			check2x(t, *r.value, map[string]any{
				"state": "prepared", "isIncoming": true, "fulfillment": nil, "written": true,
			}, map[string]any{
				"id": in.Transfer.ID, "amount": "300", "ledger": fixPrefix, "from": fixPrefix + "Tm9w", "to": fixPrefix + "Qk9i",
				"executionCondition": "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU", "expiresAt": "2017-07-01T09:31:00.000Z",
				"custom": map[string]any{"note": "x"},
			})
		})
	}
}

// check2x decodes a stored transfer value generically and compares its
// fields with what a 2.x plugin expects, exactly: no field missing, none
// extra.
func check2x(t *testing.T, value string, top, transfer map[string]any) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal([]byte(value), &got); err != nil {
		t.Fatalf("stored transfer is not JSON: %v: %s", err, value)
	}
	want := map[string]any{"transfer": transfer}
	for k, v := range top {
		want[k] = v
	}
	if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
		t.Fatalf("stored transfer\n got %s\nwant %s", g, w)
	}
}
