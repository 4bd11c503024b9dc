package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ilpkit/ilpkit/kit/store"
)

// TestWithdrawalsSettlementsMethods: the rows of migration 4 on both
// databases; a status moves once however many move it at once; the
// checks of the tables refuse what the kit never writes.
func TestWithdrawalsSettlementsMethods(t *testing.T) {
	each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		u, err := s.CreateUser(ctx, store.User{Username: "alice", PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.CreateWithdrawal(ctx, store.Withdrawal{ID: "w1", UserID: u.ID, Amount: 300, Status: store.WithdrawalPending, TransferID: "t1"})
		if err != nil || w.Username != "alice" || w.Amount != 300 || w.Status != "pending" || w.CreatedAt.IsZero() {
			t.Fatalf("%+v %v", w, err)
		}
		if _, err := s.CreateWithdrawal(ctx, store.Withdrawal{ID: "w2", UserID: u.ID, Amount: 1, Status: "pending", TransferID: "t1"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same transfer twice: %v", err)
		}
		for _, bad := range []store.Withdrawal{
			{ID: "w3", UserID: u.ID, Amount: 0, Status: "pending", TransferID: "t3"},
			{ID: "w4", UserID: u.ID, Amount: -1, Status: "pending", TransferID: "t4"},
			{ID: "w5", UserID: u.ID, Amount: 1, Status: "lost", TransferID: "t5"},
		} {
			if _, err := s.CreateWithdrawal(ctx, bad); err == nil {
				t.Errorf("%+v stored", bad)
			}
		}
		var moved atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.SetWithdrawalStatus(ctx, "w1", store.WithdrawalRejected, store.WithdrawalPending, store.WithdrawalProcessing)
				if err != nil {
					t.Error(err)
				}
				if ok {
					moved.Add(1)
				}
			}()
		}
		wg.Wait()
		if moved.Load() != 1 {
			t.Errorf("moved %d times", moved.Load())
		}
		if _, err := s.SetWithdrawalStatus(ctx, "nope", "completed", "pending"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown withdrawal: %v", err)
		}
		if ws, err := s.Withdrawals(ctx, u.ID, 10); err != nil || len(ws) != 1 || ws[0].Status != "rejected" {
			t.Errorf("%+v %v", ws, err)
		}
		if ws, err := s.Withdrawals(ctx, u.ID+1, 10); err != nil || len(ws) != 0 {
			t.Errorf("another user's: %+v %v", ws, err)
		}

		m, err := s.CreateSettlementMethod(ctx, store.SettlementMethod{ID: "m1", Type: "cash", Name: "Cash", Enabled: true})
		if err != nil || !m.Enabled {
			t.Fatalf("%+v %v", m, err)
		}
		m.Enabled, m.Description = false, "closed"
		if m, err = s.UpdateSettlementMethod(ctx, m); err != nil || m.Enabled || m.Description != "closed" {
			t.Fatalf("%+v %v", m, err)
		}
		if ms, _ := s.SettlementMethods(ctx, true); len(ms) != 0 {
			t.Errorf("enabled: %+v", ms)
		}
		if ms, _ := s.SettlementMethods(ctx, false); len(ms) != 1 {
			t.Errorf("all: %+v", ms)
		}

		st, err := s.CreateSettlement(ctx, store.Settlement{ID: "s1", UserID: &u.ID, Amount: 250, Currency: "USD", Method: "Cash", MethodID: "m1", TransferID: "t9"})
		if err != nil || st.Username != "alice" || st.MethodID != "m1" || st.PeerID != "" {
			t.Fatalf("%+v %v", st, err)
		}
		if _, err := s.CreateSettlement(ctx, store.Settlement{ID: "s2", UserID: &u.ID, PeerID: "p1", Amount: 1, Currency: "USD"}); err == nil {
			t.Error("a settlement for a user and a peer at once")
		}
		if _, err := s.CreateSettlement(ctx, store.Settlement{ID: "s3", PeerID: "p1", Amount: 0, Currency: "USD"}); err == nil {
			t.Error("a settlement of nothing")
		}
		if err := s.DeleteSettlementMethod(ctx, "m1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSettlementMethod(ctx, "m1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		if ss, err := s.Settlements(ctx, 10); err != nil || len(ss) != 1 || ss[0].Method != "Cash" {
			t.Errorf("%+v %v", ss, err)
		}
	})
}
