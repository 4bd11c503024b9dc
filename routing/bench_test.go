package routing

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/curve"
)

// benchCurve is a ten-point curve, as broadcasts carry them.
func benchCurve(scale uint64) *curve.Curve {
	pts := make([]curve.Point, 10)
	for i := range pts {
		x := uint64(i) * 1000000
		pts[i] = curve.Point{X: x, Y: x * scale / 100 * uint64(20-i) / 20}
	}
	for i := 1; i < len(pts); i++ {
		pts[i].Y = max(pts[i].Y, pts[i-1].Y)
	}
	c := curve.MustNew(pts...)
	return &c
}

// benchTables returns tables with local pairs a.↔b. and n routes from a.:
// n/2 target prefixes, each offered by two peers on b.
func benchTables(b *testing.B, n int) (*Tables, []string) {
	b.Helper()
	now := time.Unix(1500000000, 0)
	tb := NewTables(DefaultExpiry, func() time.Time { return now })
	tb.AddLocalRoutes(pairs("a.", "b.")...)
	var dests []string
	for i := range n / 2 {
		p := fmt.Sprintf("g.kit%d.usd.", i)
		dests = append(dests, p+"alice")
		tb.AddRouteData(peerRoute("b.", p, "b.p1", benchCurve(90+uint64(i%7))))
		tb.AddRouteData(peerRoute("b.", p, "b.p2", benchCurve(95-uint64(i%5))))
	}
	if got := len(tb.Routes()); got != n+2 {
		b.Fatalf("%d routes", got)
	}
	return tb, dests
}

func BenchmarkFindBestHopForSourceAmount(b *testing.B) {
	tb, dests := benchTables(b, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok := tb.FindBestHopForSourceAmount("a.alice", dests[i%len(dests)], 4500000); !ok {
			b.Fatal("no hop")
		}
	}
}

func BenchmarkFindBestHopForDestinationAmount(b *testing.B) {
	tb, dests := benchTables(b, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok := tb.FindBestHopForDestinationAmount("a.alice", dests[i%len(dests)], 300000); !ok {
			b.Fatal("no hop")
		}
	}
}

func BenchmarkAddRoute(b *testing.B) {
	b.Run("refresh", func(b *testing.B) {
		// A route already in a 1,000-route table, as every broadcast repeats.
		tb, _ := benchTables(b, 1000)
		d := peerRoute("b.", "g.kit250.usd.", "b.p1", benchCurve(91))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			tb.AddRouteData(d)
		}
	})
	b.Run("new", func(b *testing.B) {
		// A new prefix into a table of 1,000 routes (rebuilt every 100 adds,
		// off the clock, so that the table stays that size).
		var tb *Tables
		ds := make([]RouteData, 100)
		for i := range ds {
			ds[i] = peerRoute("b.", fmt.Sprintf("g.new%d.", i), "b.p3", benchCurve(92))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if i%len(ds) == 0 {
				b.StopTimer()
				tb, _ = benchTables(b, 1000)
				b.StartTimer()
			}
			if !tb.AddRouteData(ds[i%len(ds)]) {
				b.Fatal("not added")
			}
		}
	})
}

func BenchmarkToJSON(b *testing.B) {
	tb, _ := benchTables(b, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rs, err := tb.ToJSON(BroadcastPoints)
		if err != nil || len(rs) != 502 {
			b.Fatalf("%d routes, %v", len(rs), err)
		}
	}
}

func BenchmarkRoutingUpdate(b *testing.B) {
	tb, _ := benchTables(b, 200)
	rs, _ := tb.ToJSON(BroadcastPoints)
	u := RoutingUpdate{HoldDownTime: 45000, NewRoutes: SelectRoutes(rs, "a.", -1, true)}
	msg, err := json.Marshal(u)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for range b.N {
			if _, err := DecodeRoutingUpdate(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for range b.N {
			if _, err := json.Marshal(u); err != nil {
				b.Fatal(err)
			}
		}
	})
}
