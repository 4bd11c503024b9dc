package pluginkit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

func TestGate(t *testing.T) {
	g := NewGate()
	if g.Enter() {
		t.Fatal("a new gate admitted a call")
	}
	g.Open()
	if !g.IsOpen() || !g.Enter() {
		t.Fatal("an open gate refused a call")
	}
	closed := make(chan error, 1)
	go func() { closed <- g.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a call was inside", err)
	case <-time.After(20 * time.Millisecond):
	}
	if g.Enter() {
		t.Fatal("a closing gate admitted a new call")
	}
	g.Exit()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if g.IsOpen() {
		t.Fatal("gate still open after Close")
	}

	// Close gives up when its context ends.
	g.Open()
	g.Enter()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with a done context: %v", err)
	}
	g.Exit()
}

func TestEmitter(t *testing.T) {
	var em Emitter
	if em.Active() {
		t.Fatal("an empty emitter is active")
	}
	var got []string
	unA := em.Subscribe(func(ev ledger.Event) { got = append(got, "a:"+ev.Transfer.ID) })
	em.Subscribe(func(ledger.Event) { panic("boom") })
	em.Subscribe(func(ev ledger.Event) { got = append(got, "c:"+ev.Transfer.ID) })
	em.Emit(&ledger.Event{Transfer: ledger.Transfer{ID: "1"}})
	unA()
	unA() // a second call is harmless
	em.Emit(&ledger.Event{Transfer: ledger.Transfer{ID: "2"}})
	want := []string{"a:1", "c:1", "c:2"}
	if len(got) != len(want) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("deliveries %v, want %v", got, want)
		}
	}
	if !em.Active() {
		t.Fatal("emitter with subscribers is not active")
	}
}
