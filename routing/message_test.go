package routing

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/curve"
)

const okRoute = `{"source_ledger":"g.a.","destination_ledger":"g.b.","min_message_window":1,"source_account":"g.a.me"}`

func update(routes ...string) string {
	return `{"new_routes":[` + strings.Join(routes, ",") + `],"hold_down_time":45000,"unreachable_through_me":[]}`
}

func TestDecodeRoutingUpdate(t *testing.T) {
	for _, tc := range []struct {
		in      string
		errPart string // "" = accepted
	}{
		{update(), ""},
		{update(okRoute), ""},
		{`{"hold_down_time":1e3,"unreachable_through_me":["g.x."],"new_routes":[],"request_full_table":false}`, ""},
		{` {"hold_down_time":5.0,"unreachable_through_me":[],"new_routes":[]} `, ""},
		{`null`, "data: not an object"},
		{`[]`, "data: not an object"},
		{`{"hold_down_time":1,"unreachable_through_me":[],"new_routes":[]} x`, "after the JSON value"},
		{`{"hold_down_time":1,"unreachable_through_me":[],"new_routes":[]}{}`, "after the JSON value"},
		{`{"hold_down_time":1,"unreachable_through_me":[],"new_routes":[]`, "unexpected EOF"},
		{`{"hold_down_time":1,"unreachable_through_me":[]}`, "missing new_routes"},
		{`{"hold_down_time":1,"new_routes":[]}`, "missing unreachable_through_me"},
		{`{"unreachable_through_me":[],"new_routes":[]}`, "missing hold_down_time"},
		{`{"hold_down_time":0,"unreachable_through_me":[],"new_routes":[]}`, "hold_down_time"},
		{`{"hold_down_time":1.5,"unreachable_through_me":[],"new_routes":[]}`, "hold_down_time"},
		{`{"hold_down_time":"45000","unreachable_through_me":[],"new_routes":[]}`, "hold_down_time: not a number"},
		{`{"hold_down_time":1e19,"unreachable_through_me":[],"new_routes":[]}`, "beyond"},
		{`{"hold_down_time":1,"unreachable_through_me":[],"new_routes":[],"request_full_table":"yes"}`, "request_full_table"},
		{`{"hold_down_time":1,"unreachable_through_me":[],"new_routes":[],"request_full_table":null}`, "request_full_table"},
		{`{"hold_down_time":1,"unreachable_through_me":[],"new_routes":[],"x":1}`, `unknown field "x"`},
		{`{"hold_down_time":1,"unreachable_through_me":["g x"],"new_routes":[]}`, "unreachable_through_me[0]"},
		{`{"hold_down_time":1,"unreachable_through_me":null,"new_routes":[]}`, "unreachable_through_me: not an array"},
		{`{"hold_down_time":1,"unreachable_through_me":[],"new_routes":{}}`, "new_routes: not an array"},
		{update(`null`), "new_routes[0]: not an object"},
		{update(strings.Replace(okRoute, `"source_account":"g.a.me"`, `"source_account":"g.a.me","added_during_epoch":3`, 1)), `unknown field "added_during_epoch"`},
		{update(strings.Replace(okRoute, `,"source_account":"g.a.me"`, ``, 1)), "missing source_account"},
		{update(strings.Replace(okRoute, `"g.b."`, `""`, 1)), "destination_ledger"},
		{update(strings.Replace(okRoute, `"g.b."`, `"g.b!"`, 1)), "destination_ledger"},
		{update(strings.Replace(okRoute, `"min_message_window":1`, `"min_message_window":-0.001`, 1)), "below 0"},
		{update(strings.Replace(okRoute, `"min_message_window":1`, `"min_message_window":"1"`, 1)), "not a number"},
		{update(strings.Replace(okRoute, `"min_message_window":1`, `"min_message_window":1e400`, 1)), "beyond"},
		{update(strings.Replace(okRoute, `"min_message_window":1`, `"min_message_window":0.25`, 1)), ""},
		{update(strings.Replace(okRoute, `}`, `,"destination_account":"g.b.me"}`, 1)), ""},
		{update(strings.Replace(okRoute, `}`, `,"destination_account":null}`, 1)), "destination_account"},
		{update(strings.Replace(okRoute, `}`, `,"paths":[[],["g.x.","any string at all"]]}`, 1)), ""},
		{update(strings.Replace(okRoute, `}`, `,"paths":[["g.x.",1]]}`, 1)), "paths[0][1]"},
		{update(strings.Replace(okRoute, `}`, `,"paths":["g.x."]}`, 1)), "paths[0]: not an array"},
		{update(strings.Replace(okRoute, `}`, `,"points":""}`, 1)), ""},
		{update(strings.Replace(okRoute, `}`, `,"points":"AAAAAAAAAAAAAAAAAAAAAA=="}`, 1)), ""},
		{update(strings.Replace(okRoute, `}`, `,"points":"AAAAAAAAAAAAAAAA\nAAAAAA=="}`, 1)), ""},
		{update(strings.Replace(okRoute, `}`, `,"points":"AAAAAAAAAAAAAAAAAAAAAA"}`, 1)), "not base64"},
		{update(strings.Replace(okRoute, `}`, `,"points":"AAAAAAAAAAAAAAAAAAAAA-=="}`, 1)), "not base64"},
		{update(strings.Replace(okRoute, `}`, `,"points":"AAAA"}`, 1)), "invalid liquidity curve"},
		// x decreasing: a valid schema, an invalid curve.
		{update(strings.Replace(okRoute, `}`, `,"points":"`+curveBytes(t, 0, 5, 0, 0, 0, 6)+`"}`, 1)), "invalid liquidity curve"},
	} {
		u, err := DecodeRoutingUpdate([]byte(tc.in))
		switch {
		case tc.errPart == "" && err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case tc.errPart != "" && err == nil:
			t.Errorf("%s: accepted as %+v", tc.in, u)
		case tc.errPart != "" && (!errors.Is(err, ErrInvalidUpdate) || !strings.Contains(err.Error(), tc.errPart)):
			t.Errorf("%s: error %q, want one with %q", tc.in, err, tc.errPart)
		}
	}
}

// curveBytes returns the base64 of points given as x0, y0, x1, y1, ... in
// the binary form, without checking them.
func curveBytes(t *testing.T, xy ...uint64) string {
	t.Helper()
	var b []byte
	for _, v := range xy {
		b = append(b, byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56), byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	if len(xy)%2 != 0 {
		t.Fatal("odd coordinates")
	}
	return encodeStd(b)
}

func encodeStd(b []byte) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out strings.Builder
	for i := 0; i < len(b); i += 3 {
		var n uint32
		k := min(3, len(b)-i)
		for j := range 3 {
			n <<= 8
			if j < k {
				n |= uint32(b[i+j])
			}
		}
		for j := range 4 {
			if j <= k {
				out.WriteByte(alpha[n>>(18-6*j)&63])
			} else {
				out.WriteByte('=')
			}
		}
	}
	return out.String()
}

func TestDecodeValues(t *testing.T) {
	in := `{"new_routes":[{"source_ledger":"g.a.","destination_ledger":"g.b.","points":"AAAAAAAAAAAAAAAAAAAAAAAAAAAKAAAAAAAAABQAAAA=","min_message_window":-0,"paths":[[]],"source_account":"g.a.me"},` +
		`{"source_ledger":"g.a.","destination_ledger":"g.c.","points":"","min_message_window":0.5,"source_account":"g.a.me"}],"hold_down_time":1e3,"unreachable_through_me":["g.d."],"request_full_table":true}`
	u, err := DecodeRoutingUpdate([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if u.HoldDownTime != 1000 || u.HoldDown() != time.Second || len(u.UnreachableThroughMe) != 1 || u.RequestFullTable == nil || !*u.RequestFullTable {
		t.Fatalf("decoded %+v", u)
	}
	r0, r1 := u.NewRoutes[0], u.NewRoutes[1]
	if r0.Points == nil || !r0.Points.Equal(curve.MustNew(curve.Point{X: 0, Y: 0}, curve.Point{X: 10, Y: 20})) ||
		math.Signbit(r0.MinMessageWindow) || !samePaths(r0.Paths, [][]string{{}}) {
		t.Fatalf("route 0: %+v", r0)
	}
	if r1.Points != nil || r1.Paths != nil || r1.MinMessageWindow != 0.5 {
		t.Fatalf("route 1 (empty points = no curve, no paths): %+v", r1)
	}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"new_routes":[{"source_ledger":"g.a.","destination_ledger":"g.b.","points":"AAAAAAAAAAAAAAAAAAAAAAAAAAAKAAAAAAAAABQAAAA=","min_message_window":0,"paths":[[]],"source_account":"g.a.me"},` +
		`{"source_ledger":"g.a.","destination_ledger":"g.c.","min_message_window":0.5,"source_account":"g.a.me"}],"hold_down_time":1000,"unreachable_through_me":["g.d."],"request_full_table":true}`
	if string(b) != want {
		t.Fatalf("encoded\n got %s\nwant %s", b, want)
	}
	var back RoutingUpdate
	if err := json.Unmarshal(b, &back); err != nil || back.HoldDownTime != 1000 || len(back.NewRoutes) != 2 {
		t.Fatalf("UnmarshalJSON: %v %+v", err, back)
	}
	// A single route decodes as strictly.
	var d RouteData
	if err := json.Unmarshal([]byte(okRoute), &d); err != nil || d.SourceAccount != "g.a.me" {
		t.Fatalf("RouteData: %v %+v", err, d)
	}
	if err := json.Unmarshal([]byte(`{"source_ledger":"g.a.","destination_ledger":"g.b.","min_message_window":1,"source_account":"g.a.me","expires_at":1}`), &d); !errors.Is(err, ErrInvalidUpdate) {
		t.Fatalf("RouteData with an unknown field: %v", err)
	}
}

func TestEncodeRoutingUpdate(t *testing.T) {
	u := RoutingUpdate{HoldDownTime: 45000}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	// Never request_full_table unless asked: ilp-connector ≤ 21.1.8 refuses it.
	if string(b) != `{"new_routes":[],"hold_down_time":45000,"unreachable_through_me":[]}` {
		t.Fatalf("heartbeat: %s", b)
	}
	f := false
	u.RequestFullTable = &f
	if b, _ := json.Marshal(u); !strings.HasSuffix(string(b), `,"request_full_table":false}`) {
		t.Fatalf("asked for: %s", b)
	}
	epoch := 3
	for name, bad := range map[string]RoutingUpdate{
		"hold-down 0":         {},
		"hold-down ≈ 2^63":    {HoldDownTime: math.MaxInt64 - 100},
		"epoch":               {HoldDownTime: 1, NewRoutes: []RouteData{{SourceLedger: "a.", DestinationLedger: "b.", SourceAccount: "a.x", AddedDuringEpoch: &epoch}}},
		"no source account":   {HoldDownTime: 1, NewRoutes: []RouteData{{SourceLedger: "a.", DestinationLedger: "b."}}},
		"bad address":         {HoldDownTime: 1, NewRoutes: []RouteData{{SourceLedger: "a .", DestinationLedger: "b.", SourceAccount: "a.x"}}},
		"negative window":     {HoldDownTime: 1, NewRoutes: []RouteData{{SourceLedger: "a.", DestinationLedger: "b.", SourceAccount: "a.x", MinMessageWindow: -1}}},
		"NaN window":          {HoldDownTime: 1, NewRoutes: []RouteData{{SourceLedger: "a.", DestinationLedger: "b.", SourceAccount: "a.x", MinMessageWindow: math.NaN()}}},
		"infinite window":     {HoldDownTime: 1, NewRoutes: []RouteData{{SourceLedger: "a.", DestinationLedger: "b.", SourceAccount: "a.x", MinMessageWindow: math.Inf(1)}}},
		"unreachable address": {HoldDownTime: 1, UnreachableThroughMe: []string{""}},
	} {
		if b, err := json.Marshal(bad); !errors.Is(err, ErrInvalidUpdate) {
			t.Errorf("%s: encoded %s (%v)", name, b, err)
		}
	}
	// Table output (with its epoch) still encodes as a RouteData.
	if b, err := json.Marshal(RouteData{SourceLedger: "a.", DestinationLedger: "b.", AddedDuringEpoch: &epoch, MinMessageWindow: 1e-7}); err != nil ||
		string(b) != `{"source_ledger":"a.","destination_ledger":"b.","min_message_window":1e-7,"added_during_epoch":3}` {
		t.Fatalf("RouteData: %s %v", b, err)
	}
	// The largest hold-down that encodes reads back as itself.
	big := RoutingUpdate{HoldDownTime: 1<<63 - 1024}
	if b, err := json.Marshal(big); err != nil {
		t.Fatal(err)
	} else if back, err := DecodeRoutingUpdate(b); err != nil || back.HoldDownTime != big.HoldDownTime {
		t.Fatalf("%s read back as %d, %v", b, back.HoldDownTime, err)
	}
	if (RoutingUpdate{HoldDownTime: math.MaxInt64}).HoldDown() != math.MaxInt64 {
		t.Fatal("HoldDown does not saturate")
	}
}

func TestAcceptRoute(t *testing.T) {
	base := RouteData{SourceLedger: "peer.x.", DestinationLedger: "g.d.", SourceAccount: "peer.x.bob"}
	for _, tc := range []struct {
		from string
		mod  func(*RouteData)
		want error
	}{
		{"peer.x.bob", func(*RouteData) {}, nil},
		{"peer.x.alice", func(*RouteData) {}, ErrNotFromSender},
		{"peer.x.bob", func(d *RouteData) { d.SourceLedger = "peer.y." }, ErrAccountNotOnLedger},
		{"peer.x.bob", func(d *RouteData) { d.SourceLedger = "peer.x.bo" }, nil}, // no '.' boundary in 2017
		{"peer.x.bob", func(d *RouteData) { d.DestinationLedger = "peer.z." }, ErrPeerDestination},
		{"peer.x.bob", func(d *RouteData) { d.DestinationLedger = "peer" }, nil},
	} {
		d := base
		tc.mod(&d)
		err := AcceptRoute(tc.from, d)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("from %s, %+v: %v, want %v", tc.from, d, err, tc.want)
		}
	}
}

func TestSelectRoutes(t *testing.T) {
	e := func(n int) *int { return &n }
	c := line(10, 10)
	routes := []RouteData{
		{SourceLedger: "l.", DestinationLedger: "g.a.", Points: c, AddedDuringEpoch: e(0), SourceAccount: "l.me"},
		{SourceLedger: "l.", DestinationLedger: "g.b.", Points: c, AddedDuringEpoch: e(3), SourceAccount: "l.me"},
		{SourceLedger: "l.", DestinationLedger: "peer.x.", Points: c, AddedDuringEpoch: e(9), SourceAccount: "l.me"},
		{SourceLedger: "m.", DestinationLedger: "g.c.", Points: c, AddedDuringEpoch: e(9), SourceAccount: "m.me"},
		{SourceLedger: "l.", DestinationLedger: "g.d.", Points: c, SourceAccount: "l.me"},
		{SourceLedger: "l.", DestinationLedger: "g.e.", Points: c, AddedDuringEpoch: e(5), SourceAccount: "l.me"},
	}
	dests := func(rs []RouteData) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.DestinationLedger)
			if r.AddedDuringEpoch != nil {
				t.Errorf("%s keeps its epoch", r.DestinationLedger)
			}
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		epoch int
		want  string
	}{
		{-1, "g.a. g.b. g.e."},
		{0, "g.a. g.b. g.e."}, // 2017: peerEpoch || -1
		{1, "g.b. g.e."},
		{3, "g.e."},
		{5, ""},
	} {
		if got := dests(SelectRoutes(routes, "l.", tc.epoch, true)); got != tc.want {
			t.Errorf("epoch %d: %q, want %q", tc.epoch, got, tc.want)
		}
	}
	for _, r := range SelectRoutes(routes, "l.", -1, false) {
		if r.Points != nil {
			t.Errorf("%s keeps its points", r.DestinationLedger)
		}
	}
	if routes[0].AddedDuringEpoch == nil || routes[0].Points == nil {
		t.Fatal("SelectRoutes changed its input")
	}
	// What it selects can be sent.
	sel := SelectRoutes(routes, "l.", -1, true)
	if _, err := json.Marshal(RoutingUpdate{HoldDownTime: 45000, NewRoutes: sel}); err != nil {
		t.Fatal(err)
	}
	if got := SelectRoutes(nil, "l.", -1, true); got == nil || len(got) != 0 {
		t.Fatalf("nothing to send: %#v", got)
	}
}
