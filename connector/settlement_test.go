package connector_test

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ledger/plugintest"
)

// TestSetSettlementMethods: a peer asking settlement_methods_request gets
// the list set last at run time; a value that is not an array is refused
// and changes nothing; setting while peers ask is race-free.
func TestSetSettlementMethods(t *testing.T) {
	clock := plugintest.NewClock(t0)
	mine, theirs := trustline(t, clock, "peer.x.usd.9.", "conn", "peer", limit(e15), true)
	c := newConnector(t, clock, func(*connector.Config) {})
	add(t, c, mine)
	to := mine.Account()
	ask := func() []byte {
		t.Helper()
		return sendCustom(t, theirs, to, `{"method":"settlement_methods_request"}`).Custom
	}
	jsonEqual(t, ask(), `{"method":"settlement_methods_response","settlement_methods":[]}`)

	cash := `[{"id":"m1","name":"Cash","type":"cash","description":"at the desk","uri":"","logo":""}]`
	if err := c.SetSettlementMethods(json.RawMessage(cash)); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, ask(), `{"method":"settlement_methods_response","settlement_methods":`+cash+`}`)

	for _, bad := range []string{`{}`, `null`, `"x"`, `[`, `1`} {
		if err := c.SetSettlementMethods(json.RawMessage(bad)); !errors.Is(err, connector.ErrConfig) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	jsonEqual(t, ask(), `{"method":"settlement_methods_response","settlement_methods":`+cash+`}`)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			_ = c.SetSettlementMethods(json.RawMessage(cash))
		}
	}()
	for i := 0; i < 10; i++ {
		ask()
	}
	wg.Wait()

	if err := c.SetSettlementMethods(nil); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, ask(), `{"method":"settlement_methods_response","settlement_methods":[]}`)
}
