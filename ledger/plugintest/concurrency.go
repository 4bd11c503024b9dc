package plugintest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// waitFor is recorder.wait for goroutines other than the test's: it
// reports whether the event came in time instead of failing the test.
func (r *recorder) waitFor(kind ledger.EventKind, id string) bool {
	return eventually(func() bool { return r.count(kind, id) > 0 })
}

type outcome int

const (
	fulfilled outcome = iota
	rejected
	wrongThenFulfilled
	expired
	fulfilledTwice // by two goroutines at once
	rejectedTwice  // by two goroutines at once
	numOutcomes
)

func testConcurrency(t *testing.T, h Harness) {
	e := newEnv(t, h, Config{})
	n, workers := 400, 16
	if testing.Short() {
		n = 100
	}
	type job struct {
		forward bool // sender to receiver
		amount  uint64
		outcome outcome
		id      string
	}
	jobs := make([]job, n)
	for i := range jobs {
		jobs[i] = job{forward: e.intn(10) < 7, amount: uint64(1 + e.intn(1000)), outcome: outcome(e.intn(int(numOutcomes)))}
	}

	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				j := &jobs[i]
				from, to := e.s, e.r
				if !j.forward {
					from, to = e.r, e.s
				}
				c, cancel := context.WithTimeout(context.Background(), WaitTimeout)
				tr, f := e.conditional(from, to, j.amount)
				j.id = tr.ID
				if err := from.SendTransfer(c, tr); err != nil {
					t.Errorf("SendTransfer %s: %v", tr.ID, err)
					cancel()
					continue
				}
				if !e.events(to).waitFor(ledger.EventIncomingPrepare, tr.ID) {
					t.Errorf("no incoming_prepare for %s", tr.ID)
					cancel()
					continue
				}
				var err error
				switch j.outcome {
				case fulfilled:
					err = to.FulfillCondition(c, tr.ID, f)
				case rejected:
					err = to.RejectIncomingTransfer(c, tr.ID, ledger.NewRejection("F99", to.Account(), "no", e.clock.Now()))
				case wrongThenFulfilled:
					wrong := f
					wrong[31] ^= 0x80
					if werr := to.FulfillCondition(c, tr.ID, wrong); ledger.ErrorName(werr) != ledger.NameNotAccepted {
						t.Errorf("wrong fulfillment of %s: %v, want NotAcceptedError", tr.ID, werr)
					}
					err = to.FulfillCondition(c, tr.ID, f)
				case fulfilledTwice, rejectedTwice:
					errs := make(chan error, 2)
					for range 2 {
						go func() {
							if j.outcome == fulfilledTwice {
								errs <- to.FulfillCondition(c, tr.ID, f)
							} else {
								errs <- to.RejectIncomingTransfer(c, tr.ID, ledger.NewRejection("F99", to.Account(), "no", e.clock.Now()))
							}
						}()
					}
					err = errors.Join(<-errs, <-errs)
				}
				if err != nil {
					t.Errorf("resolving %s: %v", tr.ID, err)
				}
				cancel()
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Before the expiry: fulfilled amounts moved, the rest are pending.
	var ds, dr, pendS, pendR delta
	for _, j := range jobs {
		switch {
		case j.outcome == expired:
			if j.forward {
				s, r := e.preparedDelta(j.amount)
				pendS, pendR = pendS.add(s), pendR.add(r)
			} else {
				r, s := e.preparedDelta(j.amount)
				pendS, pendR = pendS.add(s), pendR.add(r)
			}
		case j.outcome == rejected || j.outcome == rejectedTwice:
		case j.forward:
			ds, dr = ds.add(minus(j.amount)), dr.add(plus(j.amount))
		default:
			ds, dr = ds.add(plus(j.amount)), dr.add(minus(j.amount))
		}
	}
	e.wantBalances(ds.add(pendS), dr.add(pendR))

	e.clock.Advance(hold + time.Second)
	for _, j := range jobs {
		if j.outcome == expired {
			fromEv, toEv := e.sEv, e.rEv
			if !j.forward {
				fromEv, toEv = e.rEv, e.sEv
			}
			toEv.wait(t, ledger.EventIncomingCancel, j.id)
			fromEv.wait(t, ledger.EventOutgoingCancel, j.id)
		}
	}
	e.wantBalances(ds, dr)
	// With nothing pending, what one end gained the other lost.
	sum, err := e.balance(e.s).Add(e.balance(e.r))
	wantOK(t, err, "sum")
	want, err := e.s0.Add(e.r0)
	wantOK(t, err, "sum")
	if sum != want {
		t.Fatalf("sender + receiver = %s, want %s", sum, want)
	}

	// Every transfer: one prepare then one final event on each end.
	for _, j := range jobs {
		fromEv, toEv := e.sEv, e.rEv
		if !j.forward {
			fromEv, toEv = e.rEv, e.sEv
		}
		var outFinal, inFinal ledger.EventKind
		switch j.outcome {
		case fulfilled, wrongThenFulfilled, fulfilledTwice:
			outFinal, inFinal = ledger.EventOutgoingFulfill, ledger.EventIncomingFulfill
		case rejected, rejectedTwice:
			outFinal, inFinal = ledger.EventOutgoingReject, ledger.EventIncomingReject
		case expired:
			outFinal, inFinal = ledger.EventOutgoingCancel, ledger.EventIncomingCancel
		}
		checkSequence(t, j.id, fromEv.about(j.id), ledger.EventOutgoingPrepare, outFinal)
		checkSequence(t, j.id, toEv.about(j.id), ledger.EventIncomingPrepare, inFinal)
	}
}

func checkSequence(t *testing.T, id string, got []ledger.Event, want ...ledger.EventKind) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i].Kind == want[i]
	}
	if !ok {
		kinds := make([]string, len(got))
		for i, ev := range got {
			kinds[i] = ev.Kind.String()
		}
		t.Fatalf("transfer %s: events %v, want %v", id, kinds, want)
	}
}
