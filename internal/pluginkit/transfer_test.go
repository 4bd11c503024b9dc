package pluginkit

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
)

func TestCheckTransfer(t *testing.T) {
	const prefix, from, to = "test1.l.", "test1.l.alice", "test1.l.bob"
	cond := ilp.ConditionOf(ilp.Fulfillment{1}).String()
	exp := time.Date(2017, 7, 24, 12, 0, 0, 123456789, time.UTC)
	ok := ledger.Transfer{ID: "id", To: to, Amount: 5, ExecutionCondition: cond, ExpiresAt: exp}

	got := ok
	if err := CheckTransfer(&got, prefix, from, to); err != nil {
		t.Fatal(err)
	}
	if got.Ledger != prefix || got.From != from || !got.ExpiresAt.Equal(exp.Truncate(time.Millisecond)) {
		t.Fatalf("defaults not filled in: %+v", got)
	}

	for _, c := range []struct {
		name string
		mod  func(*ledger.Transfer)
		want error
	}{
		{"no id", func(t *ledger.Transfer) { t.ID = "" }, ledger.ErrInvalidFields},
		{"long id", func(t *ledger.Transfer) { t.ID = strings.Repeat("x", MaxIDLen+1) }, ledger.ErrInvalidFields},
		{"other ledger", func(t *ledger.Transfer) { t.Ledger = "test1.m." }, ledger.ErrInvalidFields},
		{"other sender", func(t *ledger.Transfer) { t.From = "test1.l.carol" }, ledger.ErrInvalidFields},
		{"unknown account", func(t *ledger.Transfer) { t.To = "test1.l.carol" }, ledger.ErrAccountNotFound},
		{"foreign receiver", func(t *ledger.Transfer) { t.To = "g.elsewhere.bob" }, ledger.ErrInvalidFields},
		{"bad condition", func(t *ledger.Transfer) { t.ExecutionCondition = "abc" }, ledger.ErrInvalidFields},
		{"condition without expiry", func(t *ledger.Transfer) { t.ExpiresAt = time.Time{} }, ledger.ErrInvalidFields},
		{"expiry without condition", func(t *ledger.Transfer) { t.ExecutionCondition = "" }, ledger.ErrInvalidFields},
		{"custom not an object", func(t *ledger.Transfer) { t.Custom = json.RawMessage(`[1]`) }, ledger.ErrInvalidFields},
		{"note not an object", func(t *ledger.Transfer) { t.NoteToSelf = json.RawMessage(`"x"`) }, ledger.ErrInvalidFields},
	} {
		tr := ok
		c.mod(&tr)
		if err := CheckTransfer(&tr, prefix, from, to); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}
