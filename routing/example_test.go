package routing_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/routing"
)

// A connector with ledgers g.kit. and peer.x., receiving a peer's broadcast,
// routing a payment and broadcasting back.
func Example() {
	now := time.Date(2017, 7, 28, 12, 0, 0, 0, time.UTC)
	tables := routing.NewTables(routing.DefaultExpiry, func() time.Time { return now })

	oneToOne := curve.MustNew(curve.Point{X: 0, Y: 0}, curve.Point{X: 1000000, Y: 998000})
	tables.AddLocalRoutes(
		routing.Route{SourceLedger: "g.kit.", NextLedger: "peer.x.", SourceAccount: "g.kit.connector",
			DestinationAccount: "peer.x.me", MinMessageWindow: 1, Curve: &oneToOne},
		routing.Route{SourceLedger: "peer.x.", NextLedger: "g.kit.", SourceAccount: "peer.x.me",
			DestinationAccount: "g.kit.connector", MinMessageWindow: 1, Curve: &oneToOne},
	)

	// The peer peer.x.them offers g.other. at 2:1 (custom.data of its
	// request; the points are [[0,0],[1000000,500000]]).
	msg := []byte(`{"new_routes":[{"source_ledger":"peer.x.","destination_ledger":"g.other.",
		"points":"AAAAAAAAAAAAAAAAAAAAAAAAAABAQg8AAAAAACChBwA=","min_message_window":1,
		"source_account":"peer.x.them"}],"hold_down_time":45000,"unreachable_through_me":[]}`)
	u, err := routing.DecodeRoutingUpdate(msg)
	if err != nil {
		panic(err)
	}
	res := tables.ApplyUpdate("peer.x.them", u, true)
	fmt.Println("new routes:", res.Added, "epoch:", tables.Epoch())

	hop, _ := tables.FindBestHopForSourceAmount("g.kit.alice", "g.other.bob", 1000)
	fmt.Println("pay", hop.NextHop, "on", hop.Route.NextLedger, "delivers", hop.Amount)
	fmt.Println("quote applies to", tables.AppliesToPrefix("g.kit.alice", hop.Route.TargetPrefix, "g.other.bob"))

	// What a broadcast to a peer on peer.x. that has seen nothing carries.
	all, _ := tables.ToJSON(routing.BroadcastPoints)
	out, _ := json.Marshal(routing.RoutingUpdate{
		HoldDownTime: 45000,
		NewRoutes:    routing.SelectRoutes(all, "peer.x.", -1, true),
	})
	fmt.Println(string(out))
	// Output:
	// new routes: true epoch: 1
	// pay peer.x.them on peer.x. delivers 499
	// quote applies to g.other.
	// {"new_routes":[{"source_ledger":"peer.x.","destination_ledger":"g.kit.","points":"AAAAAAAAAAAAAAAAAAAAAAAAAABAQg8AAAAAAHA6DwA=","min_message_window":1,"paths":[[]],"source_account":"peer.x.me"}],"hold_down_time":45000,"unreachable_through_me":[]}
}
