package ledgertest

import "testing"

func TestSubsetSum(t *testing.T) {
	xs := []int64{5, -3, 10}
	for want, ok := range map[int64]bool{0: true, 5: true, 2: true, 12: true, 15: true, 7: true, -3: true, 1: false, 13: false} {
		if subsetSum(want, xs) != ok {
			t.Errorf("subsetSum(%d, %v) = %v", want, xs, !ok)
		}
	}
	if !subsetSum(0, nil) || subsetSum(1, nil) {
		t.Error("empty set")
	}
}

func TestCrashBookReadsWorkerLines(t *testing.T) {
	k := newCrashBook()
	k.read(t, 1, []string{
		"S 1 0",
		"B 0 0 prepare crash-r1-g0-0 100",
		"E 0 0 ok",
		"B 1 0 direct crash-r1-g1-0 7",
		"E 1 0 refused",
		"B 0 1 add - 40",
		"E 0 1 ok",
		"B 1 1 sub - -15",
		"B 0 2 fulfill crash-r1-g0-0 100",
		"B 2 0 prepare crash-r1-g2-0 9",
	})
	p := k.transfers["crash-r1-g0-0"]
	if p == nil || p.create != "ok" || !p.conditional || p.amount != 100 || !p.tryFulfill || p.fulfilled {
		t.Fatalf("prepared transfer %+v", p)
	}
	if d := k.transfers["crash-r1-g1-0"]; d == nil || d.create != "refused" || d.conditional {
		t.Fatalf("direct transfer %+v", d)
	}
	if f := k.transfers["crash-r1-g2-0"]; f == nil || f.create != "" {
		t.Fatalf("in-flight create %+v", f)
	}
	if k.acked != 40 || len(k.inFlight) != 1 || k.inFlight[0] != -15 {
		t.Fatalf("counter: acked %d, in flight %v", k.acked, k.inFlight)
	}
}
