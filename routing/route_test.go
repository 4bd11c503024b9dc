package routing

import (
	"errors"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestMaxPathLength(t *testing.T) {
	for _, tc := range []struct {
		r    Route
		want int
	}{
		{Route{SourceLedger: "a.", NextLedger: "b."}, 2},
		{Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "b."}, 2},
		{Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c."}, 3},
		{Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", Paths: [][]string{{"x."}, {"x.", "y."}}}, 5},
		{Route{SourceLedger: "a.", NextLedger: "b.", Paths: [][]string{}}, 2},
	} {
		if got := tc.r.MaxPathLength(); got != tc.want {
			t.Errorf("%+v: %d, want %d", tc.r, got, tc.want)
		}
	}
}

func TestJoinLoops(t *testing.T) {
	head := Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", Paths: [][]string{{"p."}}}
	for _, tc := range []struct {
		name string
		head Route
		tail Route
		want error
	}{
		{"not adjacent", head, Route{SourceLedger: "x.", NextLedger: "d."}, ErrNotAdjacent},
		{"back to the source", head, Route{SourceLedger: "c.", NextLedger: "a."}, ErrLoop},
		{"back to the next ledger", head, Route{SourceLedger: "c.", NextLedger: "b."}, ErrLoop},
		{"tail's next ledger is the head's", head, Route{SourceLedger: "c.", NextLedger: "b.", DestinationLedger: "d."}, ErrLoop},
		{"tail ends where it starts", head, Route{SourceLedger: "c.", NextLedger: "c."}, ErrLoop},
		{"head path meets the tail", head, Route{SourceLedger: "c.", NextLedger: "p."}, ErrLoop},
		{"head path through its source", Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", Paths: [][]string{{"a."}}},
			Route{SourceLedger: "c.", NextLedger: "d."}, ErrLoop},
		{"tail path meets the head path", head, Route{SourceLedger: "c.", NextLedger: "d.", DestinationLedger: "e.", Paths: [][]string{{"p."}}}, ErrLoop},
		{"tail path through the source", head, Route{SourceLedger: "c.", NextLedger: "d.", DestinationLedger: "e.", Paths: [][]string{{"q."}, {"a."}}}, ErrLoop},
		{"fine", head, Route{SourceLedger: "c.", NextLedger: "d.", DestinationLedger: "e.", Paths: [][]string{{"q."}}}, nil},
		{"alternatives may repeat", Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", Paths: [][]string{{"p."}, {"p.", "q."}}},
			Route{SourceLedger: "c.", NextLedger: "d."}, nil},
	} {
		_, err := tc.head.Join(tc.tail, time.Time{}, 0)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestJoinFields(t *testing.T) {
	exp := time.Unix(1500000045, 0)
	head := Route{SourceLedger: "a.", NextLedger: "b.", MinMessageWindow: 1.5, IsLocal: true, SourceAccount: "a.me",
		DestinationAccount: "b.me", Curve: line(200, 100), AddedDuringEpoch: 9, ExpiresAt: time.Unix(1, 0)}
	tail := Route{SourceLedger: "b.", NextLedger: "c.", DestinationLedger: "d.", TargetPrefix: "d.sub.", MinMessageWindow: 0.25,
		SourceAccount: "b.peer", Curve: line(50, 60)}
	got, err := head.Join(tail, exp, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "d.", TargetPrefix: "d.sub.", MinMessageWindow: 1.75,
		SourceAccount: "a.me", AddedDuringEpoch: 4, ExpiresAt: exp, Paths: [][]string{{"c."}}}
	gotCurve := got.Curve
	got.Curve = nil
	if !routesEqual(got, want) {
		t.Fatalf("join\n got %+v\nwant %+v", got, want)
	}
	if gotCurve == nil || gotCurve.AmountAt(100) != 60 {
		t.Fatalf("curve %v", gotCurve)
	}
	tail.IsLocal = true
	if r, _ := head.Join(tail, exp, 4); !r.IsLocal {
		t.Fatal("join of two local routes is not local")
	}
	tail.Curve = nil
	if r, _ := head.Join(tail, exp, 4); r.Curve != nil {
		t.Fatal("join with a curve-less tail has a curve")
	}
}

func routesEqual(a, b Route) bool {
	type plain struct {
		src, next, dst, target, sa, da string
		mmw                            float64
		exp                            time.Time
		static, local                  bool
		epoch                          int
	}
	flat := func(r Route) plain {
		return plain{r.SourceLedger, r.NextLedger, r.DestinationLedger, r.TargetPrefix, r.SourceAccount, r.DestinationAccount,
			r.MinMessageWindow, r.ExpiresAt, r.Static, r.IsLocal, r.AddedDuringEpoch}
	}
	return flat(a) == flat(b) && samePaths(a.Paths, b.Paths) && (a.Curve == nil) == (b.Curve == nil) &&
		(a.Curve == nil || a.Curve.Equal(*b.Curve))
}

func TestCombine(t *testing.T) {
	short := Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", SourceAccount: "a.s", Curve: line(10, 10), AddedDuringEpoch: 1}
	long := Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", Curve: line(10, 100), AddedDuringEpoch: 5, Paths: [][]string{{"x."}}}
	if got := short.Combine(long); !routesEqual(got, short.norm()) {
		t.Fatalf("short.Combine(long) = %+v", got)
	}
	if got := long.Combine(short); !routesEqual(got, short.norm()) {
		t.Fatalf("long.Combine(short) = %+v", got)
	}
	// Paths are told apart element by element, not by their text.
	p := Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", MinMessageWindow: 1, Paths: [][]string{{"x\x00y", "z"}}}
	q := Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", MinMessageWindow: 2, Paths: [][]string{{"x", "y\x00z"}, {"x\x00y", "z"}}}
	got := p.Combine(q)
	if len(got.Paths) != 2 || got.MinMessageWindow != 2 || got.SourceAccount != "" || got.IsLocal {
		t.Fatalf("combined %+v", got)
	}
}

func TestFromDataToJSON(t *testing.T) {
	d := RouteData{SourceLedger: "b.", DestinationLedger: "c.", SourceAccount: "b.p", DestinationAccount: "c.p", MinMessageWindow: 2.5, Points: line(5, 6)}
	r := FromData(d, 7)
	if r.NextLedger != "c." || r.DestinationLedger != "c." || r.TargetPrefix != "c." || r.IsLocal || r.AddedDuringEpoch != 7 ||
		!samePaths(r.Paths, [][]string{{}}) || r.Curve != d.Points || r.DestinationAccount != "c.p" {
		t.Fatalf("FromData: %+v", r)
	}
	back := r.ToJSON()
	if back.AddedDuringEpoch == nil || *back.AddedDuringEpoch != 7 || back.DestinationAccount != "" || back.SourceAccount != "b.p" ||
		back.Points != d.Points || back.MinMessageWindow != 2.5 || !samePaths(back.Paths, [][]string{{}}) {
		t.Fatalf("ToJSON: %+v", back)
	}
	d.Paths = [][]string{}
	if r := FromData(d, 0); r.Paths == nil || len(r.Paths) != 0 || r.MaxPathLength() != 2 {
		t.Fatalf("explicit empty paths: %+v", r.Paths)
	}
}

func TestAmounts(t *testing.T) {
	r := Route{Curve: line(100, 50)}
	if y, ok := r.AmountAt(50); !ok || y != 25 {
		t.Fatalf("AmountAt(50) = %d %v", y, ok)
	}
	if x, ok := r.AmountReverse(25); !ok || x != 50 {
		t.Fatalf("AmountReverse(25) = %d %v", x, ok)
	}
	if _, ok := r.AmountReverse(51); ok {
		t.Fatal("AmountReverse beyond the curve")
	}
	none := Route{}
	if _, ok := none.AmountAt(1); ok {
		t.Fatal("AmountAt without a curve")
	}
	if _, ok := none.AmountReverse(1); ok {
		t.Fatal("AmountReverse without a curve")
	}
}

func TestIsExpired(t *testing.T) {
	now := time.Unix(100, 0)
	for _, tc := range []struct {
		r    Route
		want bool
	}{
		{Route{}, false},
		{Route{ExpiresAt: now}, false},
		{Route{ExpiresAt: now.Add(-time.Nanosecond)}, true},
		{Route{ExpiresAt: now.Add(-time.Hour), Static: true}, false},
	} {
		if got := tc.r.IsExpired(now); got != tc.want {
			t.Errorf("%+v: %v", tc.r, got)
		}
	}
}

// The PrefixMap against the 2017 algorithm: keys sorted longest first,
// equal lengths in reverse order, resolve = exact key or first prefix.
func TestPrefixMap(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := "ab."
	word := func(max int) string {
		n := rng.Intn(max + 1)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(b)
	}
	for round := range 200 {
		var m PrefixMap[int]
		ref := map[string]int{}
		for i := range 30 {
			k := word(5)
			if rng.Intn(4) == 0 {
				m.Delete(k)
				delete(ref, k)
				continue
			}
			m.Insert(k, i)
			ref[k] = i
		}
		keys := make([]string, 0, len(ref))
		for k := range ref {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if len(keys[i]) != len(keys[j]) {
				return len(keys[i]) > len(keys[j])
			}
			return keys[i] > keys[j]
		})
		if !slices.Equal(m.Keys(), keys) || m.Len() != len(keys) {
			t.Fatalf("round %d: keys %q, want %q", round, m.Keys(), keys)
		}
		for range 30 {
			addr := word(7)
			wantKey, found := "", false
			if _, ok := ref[addr]; ok {
				wantKey, found = addr, true
			} else {
				for _, k := range keys {
					if strings.HasPrefix(addr, k) {
						wantKey, found = k, true
						break
					}
				}
			}
			k, v, ok := m.Resolve(addr)
			if ok != found || ok && (k != wantKey || v != ref[wantKey]) {
				t.Fatalf("round %d: Resolve(%q) = %q %d %v, want %q %v", round, addr, k, v, ok, wantKey, found)
			}
		}
	}
	// Setting an existing key keeps its place; no '.' boundary is checked.
	var m PrefixMap[string]
	m.Insert("g.us", "1")
	m.Insert("g.eu", "2")
	m.Insert("g.us", "3")
	if k, v, _ := m.Resolve("g.usd.bob"); k != "g.us" || v != "3" || !slices.Equal(m.Keys(), []string{"g.us", "g.eu"}) {
		t.Fatalf("Resolve: %q %q, keys %q", k, v, m.Keys())
	}
}

// Long path lists and long paths take the indexed branch of the sets.
func TestLongPaths(t *testing.T) {
	var ps, qs [][]string
	for i := range 40 {
		p := []string{"x" + strings.Repeat("y", i) + "."}
		if i < 30 {
			ps = append(ps, p, p) // duplicates within one route too
		}
		if i >= 20 {
			qs = append(qs, p)
		}
	}
	a := Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", Paths: ps}
	b := Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", Paths: qs}
	got := a.Combine(b).Paths
	if len(got) != 40 {
		t.Fatalf("%d paths", len(got))
	}
	for i, p := range got {
		if len(p) != 1 || len(p[0]) != i+2 {
			t.Fatalf("path %d is %q", i, p)
		}
	}

	long := make([]string, 20)
	for i := range long {
		long[i] = "l" + strings.Repeat("m", i) + "."
	}
	head := Route{SourceLedger: "a.", NextLedger: "b.", DestinationLedger: "c.", Paths: [][]string{long}}
	if _, err := head.Join(Route{SourceLedger: "c.", NextLedger: "d.", DestinationLedger: "e.", Paths: [][]string{{"q.", long[19]}}}, time.Time{}, 0); !errors.Is(err, ErrLoop) {
		t.Fatalf("repeat after 24 ledgers: %v", err)
	}
	if r, err := head.Join(Route{SourceLedger: "c.", NextLedger: "d.", DestinationLedger: "e.", Paths: [][]string{{"q."}}}, time.Time{}, 0); err != nil || r.MaxPathLength() != 26 { // 20 + c. + d. + q., then a., b., e.
		t.Fatalf("long join: %v, max path %d", err, r.MaxPathLength())
	}
}
