package web

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
)

// TestTrackerReportsEveryChange: however many payments appear between two
// looks, and however old a pending payment is when it ends, the stream's
// tracker reports each once, oldest first.
func TestTrackerReportsEveryChange(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Second); return now }
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "kit.db"), store.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.CreateUser(ctx, store.User{Username: "alice", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	pay := func(state string) store.Payment {
		t.Helper()
		n++
		p, _, err := st.InsertPayment(ctx, store.Payment{ID: fmt.Sprintf("%d:p%04d", u.ID, n), UserID: u.ID, Direction: "outgoing",
			TransferID: fmt.Sprintf("t%04d", n), Counterparty: "bob@x", SourceAmount: 1, DestinationAmount: 1, State: state})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	slow := pay(store.PaymentPending) // ends much later
	for range 30 {
		pay(store.PaymentSuccess)
	}
	tr, err := newTracker(ctx, st, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := tr.changes(ctx); err != nil || len(ch) != 0 {
		t.Fatalf("nothing changed, yet %d changes, %v", len(ch), err)
	}

	// 300 payments between two looks (more than a page), then the slow one
	// ends: 301 changes, the slow one last (sorted by creation, it is the
	// oldest: first).
	var want []string
	for range 300 {
		want = append(want, pay(store.PaymentPending).ID)
	}
	if _, err := st.FinishPayment(ctx, slow.ID, store.PaymentSuccess, ""); err != nil {
		t.Fatal(err)
	}
	ch, err := tr.changes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 301 || ch[0].ID != slow.ID || ch[0].State != store.PaymentSuccess {
		t.Fatalf("%d changes, first %+v", len(ch), ch[0])
	}
	for i, id := range want {
		if ch[i+1].ID != id {
			t.Fatalf("change %d is %s, want %s", i+1, ch[i+1].ID, id)
		}
	}
	// The first of those ends, far below the newest page: reported alone.
	if _, err := st.FinishPayment(ctx, want[0], store.PaymentFailed, "RejectedError"); err != nil {
		t.Fatal(err)
	}
	ch, err = tr.changes(ctx)
	if err != nil || len(ch) != 1 || ch[0].ID != want[0] || ch[0].State != store.PaymentFailed {
		t.Fatalf("changes %+v %v", ch, err)
	}
	if ch, err := tr.changes(ctx); err != nil || len(ch) != 0 {
		t.Fatalf("reported again: %d, %v", len(ch), err)
	}
}
