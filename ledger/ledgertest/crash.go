package ledgertest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// The crash model. The worker moves money between four balances:
//
//	prepare  payer -= n, hold += n    (a conditional transfer, prepared)
//	direct   payer -= n, payee += n   (an unconditional transfer, executed)
//	fulfill  hold -= n, payee += n
//	cancel   hold -= n, payer += n
//	add/sub  counter ± n              (a plain balance change, no record)
//
// so on a store that started empty, whatever survives a crash must satisfy
// hold = Σ prepared amounts, payee = Σ executed amounts, payer = -(hold+payee).
const (
	crashPayer   = "crash-payer"
	crashHold    = "crash-hold"
	crashPayee   = "crash-payee"
	crashCounter = "crash-counter"

	crashWorkers   = 4      // goroutines in the worker process
	crashRounds    = 5      // worker processes killed, one after the other, on one store
	crashMaxOps    = 200000 // per goroutine; the kill comes long before
	crashPayerMin  = -(1 << 22)
	crashCounterLo = -(1 << 20)
	crashCounterHi = 1 << 20
)

func crashOptions() map[string]ledger.BalanceOptions {
	return map[string]ledger.BalanceOptions{
		crashPayer:   limits(ledger.Limit(i128(crashPayerMin)), ledger.Unlimited()),
		crashHold:    limits(ledger.Limit(i128(0)), ledger.Unlimited()),
		crashPayee:   {},
		crashCounter: limits(ledger.Limit(i128(crashCounterLo)), ledger.Limit(i128(crashCounterHi))),
	}
}

// RunWorker runs the crash test's worker when this process was started as
// one (EnvWorker is set) and then reports true: the caller must exit
// without running tests. It reports false in an ordinary test process. A
// worker that cannot do its job writes why to stderr and exits with status 3.
func RunWorker(hs ...Harness) bool {
	name := os.Getenv(EnvWorker)
	if name == "" {
		return false
	}
	for _, h := range hs {
		if h.Name == name {
			if err := work(h); err != nil {
				fmt.Fprintf(os.Stderr, "ledgertest worker %s: %v\n", name, err)
				os.Exit(3)
			}
			return true
		}
	}
	fmt.Fprintf(os.Stderr, "ledgertest worker: no harness named %q was passed to Main or RunWorker\n", name)
	os.Exit(3)
	return true
}

// lineWriter writes whole lines to the parent, one write each, so lines of
// different goroutines never interleave and each line is out of the process
// before the next operation starts.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// work is the worker process: it opens the store and does random
// operations from several goroutines, announcing each one on stdout as
// "B <goroutine> <seq> <op> <id> <amount>" before it starts and
// "E <goroutine> <seq> <outcome>" after it returns, until it is killed.
func work(h Harness) error {
	ctx := context.Background()
	loc := os.Getenv(EnvLocation)
	seed, err := strconv.ParseUint(os.Getenv(EnvSeed), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvSeed, err)
	}
	round, err := strconv.Atoi(os.Getenv(EnvRound))
	if err != nil {
		return fmt.Errorf("%s: %w", EnvRound, err)
	}
	b, closeFn, err := h.Open(ctx, loc)
	if err != nil {
		return fmt.Errorf("open %q: %w", loc, err)
	}
	// Transfers a killed predecessor left prepared are resolved too, as a
	// plugin re-arms their expiry after a restart.
	left, err := b.TransferLog().Prepared(ctx)
	if err != nil {
		return fmt.Errorf("prepared: %w", err)
	}
	out := &lineWriter{w: os.Stdout}
	out.printf("S %d %d", round, len(left))
	var wg sync.WaitGroup
	errs := make(chan error, crashWorkers)
	for g := 0; g < crashWorkers; g++ {
		var inherited []ledger.Record
		for i := g; i < len(left); i += crashWorkers {
			inherited = append(inherited, left[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := workLoop(ctx, b, out, newRand(seed, uint64(g)), round, g, inherited); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	out.printf("D")
	if closeFn != nil {
		return closeFn()
	}
	return nil
}

func workLoop(ctx context.Context, b ledger.Backend, out *lineWriter, r *rand.Rand, round, g int, open []ledger.Record) error {
	opts := crashOptions()
	payer, hold, payee := b.Balance(crashPayer, opts[crashPayer]), b.Balance(crashHold, opts[crashHold]), b.Balance(crashPayee, opts[crashPayee])
	counter := b.Balance(crashCounter, opts[crashCounter])
	for _, bal := range []ledger.Balance{payer, hold, payee, counter} {
		if err := bal.Connect(ctx); err != nil {
			return fmt.Errorf("connect %q: %w", bal.Name(), err)
		}
	}
	log := b.TransferLog()
	var resolved []string // ids this goroutine resolved, for repeats
	for seq := 0; seq < crashMaxOps; seq++ {
		id := fmt.Sprintf("crash-r%d-g%d-%d", round, g, seq)
		amount := 1 + r.Uint64N(1<<16)
		var op string
		var res ledger.Result
		var err error
		p := r.IntN(100)
		switch {
		case p < 30:
			op = "prepare"
			out.printf("B %d %d %s %s %d", g, seq, op, id, amount)
			res, err = log.Create(ctx, prepared(id, amount, false), ledger.Debit(payer, amount), ledger.Credit(hold, amount))
			if err == nil {
				open = append(open, res.Record)
			}
		case p < 40:
			op = "direct"
			out.printf("B %d %d %s %s %d", g, seq, op, id, amount)
			res, err = log.Create(ctx, ledger.Record{Transfer: transfer(id, amount, false)}, ledger.Debit(payer, amount), ledger.Credit(payee, amount))
		case p < 70 && len(open) > 0:
			i := r.IntN(len(open))
			rec := open[i]
			open = append(open[:i], open[i+1:]...)
			id, amount = rec.Transfer.ID, rec.Transfer.Amount
			if r.IntN(2) == 0 {
				op = "fulfill"
				out.printf("B %d %d %s %s %d", g, seq, op, id, amount)
				f, _ := fulfillmentFor(id)
				res, err = log.Fulfill(ctx, id, f, ledger.Debit(hold, amount), ledger.Credit(payee, amount))
			} else {
				op = "cancel"
				out.printf("B %d %d %s %s %d", g, seq, op, id, amount)
				res, err = log.Cancel(ctx, id, ledger.Debit(hold, amount), ledger.Credit(payer, amount))
			}
			if err == nil {
				resolved = append(resolved, id)
			}
		case p < 75 && len(resolved) > 0:
			// Resolving a resolved transfer again: a no-op or a refusal.
			id = resolved[r.IntN(len(resolved))]
			op = "again"
			out.printf("B %d %d %s %s %d", g, seq, op, id, 0)
			f, _ := fulfillmentFor(id)
			if res, err = log.Fulfill(ctx, id, f, ledger.Credit(payee, 1)); errors.Is(err, ledger.ErrAlreadyRolledBack) {
				res, err = log.Cancel(ctx, id, ledger.Credit(payer, 1))
			}
			if err == nil && res.Applied {
				err = fmt.Errorf("resolving %s again was applied", id)
			}
		default:
			n := int64(amount)
			op = "add"
			if r.IntN(2) == 0 {
				op, n = "sub", -n
			}
			out.printf("B %d %d %s %s %d", g, seq, op, "-", n)
			if n < 0 {
				_, err = counter.Sub(ctx, amount)
			} else {
				_, err = counter.Add(ctx, amount)
			}
		}
		switch {
		case err == nil:
			out.printf("E %d %d ok", g, seq)
		case errors.Is(err, ledger.ErrMinimumExceeded), errors.Is(err, ledger.ErrMaximumExceeded):
			out.printf("E %d %d refused", g, seq)
		default:
			out.printf("E %d %d fail %s", g, seq, strings.ReplaceAll(err.Error(), "\n", " "))
			return fmt.Errorf("%s %s: %w", op, id, err)
		}
	}
	return nil
}

func runCrash(t *testing.T, h Harness) {
	if h.NoCrash != "" {
		t.Skipf("not applicable to %s: %s", h.Name, h.NoCrash)
	}
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1", "ios":
		t.Skipf("no SIGKILL of a child process on %s", runtime.GOOS)
	}
	t.Run("a worker killed with SIGKILL leaves every transfer's state agreeing with the balances", func(t *testing.T) {
		seed := seedFor(t)
		r := newRand(seed, 11)
		loc := h.NewStore(t)
		book := newCrashBook()
		for round := 1; round <= crashRounds; round++ {
			killAfter := 40 + r.IntN(800)
			delay := time.Duration(r.IntN(3000)) * time.Microsecond
			lines := runWorkerProcess(t, h, loc, seed+uint64(round), round, killAfter, delay)
			book.read(t, round, lines)
			checkCrashStore(t, h, loc, book, false)
		}
		checkCrashStore(t, h, loc, book, true)
	})
}

// runWorkerProcess starts the test binary as a worker on loc, kills it with
// SIGKILL delay after it has written killAfter operation lines, and returns
// every line it wrote. The delay moves the kill away from the moments the
// worker writes a line (just before and after an operation) into the
// operations themselves.
func runWorkerProcess(t *testing.T, h Harness, loc string, seed uint64, round, killAfter int, delay time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		EnvWorker+"="+h.Name,
		EnvLocation+"="+loc,
		EnvSeed+"="+strconv.FormatUint(seed, 10),
		EnvRound+"="+strconv.Itoa(round),
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	var mu sync.Mutex
	killed, timedOut := false, false
	kill := func(timeout bool) {
		mu.Lock()
		defer mu.Unlock()
		if !killed {
			killed, timedOut = true, timeout
			_ = cmd.Process.Kill() // SIGKILL on Unix
		}
	}
	timer := time.AfterFunc(2*time.Minute, func() { kill(true) })
	defer timer.Stop()

	var lines []string
	ops := 0
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if strings.HasPrefix(line, "B ") || strings.HasPrefix(line, "E ") {
			ops++
			if ops == killAfter {
				time.AfterFunc(delay, func() { kill(false) })
			}
		}
	}
	waitErr := cmd.Wait()
	mu.Lock()
	wasKilled, wasTimeout := killed, timedOut
	mu.Unlock()
	switch {
	case wasTimeout:
		t.Fatalf("round %d: the worker wrote %d lines in two minutes and was killed; stderr:\n%s", round, ops, stderr.String())
	case len(lines) == 0 && waitErr == nil:
		t.Fatalf("round %d: the test binary ran no worker; its TestMain must call ledgertest.Main or ledgertest.RunWorker with harness %q", round, h.Name)
	case !wasKilled:
		t.Fatalf("round %d: the worker stopped by itself after %d lines (%v); stderr:\n%s", round, ops, waitErr, stderr.String())
	}
	t.Logf("round %d: killed the worker %s after %d operation lines (%d read in all)", round, delay, killAfter, ops)
	return lines
}

// crashBook is what the parent learned from the workers' lines.
type crashBook struct {
	transfers map[string]*crashTransfer
	// counter is the counter balance found by the last check; the
	// operations of the round since then follow.
	counter  int64
	acked    int64   // sum of the acknowledged counter changes of the round
	inFlight []int64 // counter changes started but not acknowledged
}

type crashTransfer struct {
	amount      uint64
	conditional bool
	create      string // "ok", "refused", or "" while in flight
	fulfilled   bool   // a fulfill was acknowledged
	cancelled   bool   // a cancel was acknowledged
	tryFulfill  bool   // a fulfill was started
	tryCancel   bool   // a cancel was started
}

func newCrashBook() *crashBook { return &crashBook{transfers: map[string]*crashTransfer{}} }

type crashOp struct {
	op     string
	id     string
	amount int64
}

// read takes in one round's lines.
func (k *crashBook) read(t *testing.T, round int, lines []string) {
	t.Helper()
	k.acked, k.inFlight = 0, nil
	started := map[string]crashOp{}
	for _, line := range lines {
		f := strings.Fields(line)
		switch {
		case len(f) >= 1 && (f[0] == "S" || f[0] == "D"):
			continue
		case len(f) == 6 && f[0] == "B":
			n, err := strconv.ParseInt(f[5], 10, 64)
			if err != nil {
				t.Fatalf("round %d: bad line %q", round, line)
			}
			op := crashOp{op: f[3], id: f[4], amount: n}
			started[f[1]+" "+f[2]] = op
			switch op.op {
			case "prepare", "direct":
				k.transfers[op.id] = &crashTransfer{amount: uint64(n), conditional: op.op == "prepare"}
			case "fulfill":
				k.transfer(t, op.id).tryFulfill = true
			case "cancel":
				k.transfer(t, op.id).tryCancel = true
			}
		case len(f) >= 4 && f[0] == "E":
			key := f[1] + " " + f[2]
			op, ok := started[key]
			if !ok {
				t.Fatalf("round %d: %q ends an operation that never began", round, line)
			}
			delete(started, key)
			outcome := f[3]
			if outcome == "fail" {
				t.Fatalf("round %d: the worker's %s %s failed: %s", round, op.op, op.id, strings.Join(f[4:], " "))
			}
			switch op.op {
			case "prepare", "direct":
				k.transfers[op.id].create = outcome
			case "fulfill", "cancel":
				if outcome != "ok" {
					t.Fatalf("round %d: %s %s was refused; the model never refuses a resolution", round, op.op, op.id)
				}
				if op.op == "fulfill" {
					k.transfer(t, op.id).fulfilled = true
				} else {
					k.transfer(t, op.id).cancelled = true
				}
			case "add", "sub":
				if outcome == "ok" {
					k.acked += op.amount
				}
			}
		default:
			t.Fatalf("round %d: unexpected line %q", round, line)
		}
	}
	for _, op := range started {
		if op.op == "add" || op.op == "sub" {
			k.inFlight = append(k.inFlight, op.amount)
		}
	}
	t.Logf("round %d: %d operations were in flight when the worker died", round, len(started))
}

func (k *crashBook) transfer(t *testing.T, id string) *crashTransfer {
	t.Helper()
	tr, ok := k.transfers[id]
	if !ok {
		t.Fatalf("the worker resolved %s, which it never created", id)
	}
	return tr
}

// checkCrashStore opens the store after a kill and checks it against the
// book; with finish, it also cancels what is still prepared and checks that
// the holds are gone.
func checkCrashStore(t *testing.T, h Harness, loc string, k *crashBook, finish bool) {
	t.Helper()
	ctx := context.Background()
	s := &store{h: h, loc: loc}
	s.open(t)
	defer s.shut(t)
	log := s.b.TransferLog()
	opts := crashOptions()
	var hold, payee ledger.Int128
	var prepared []string
	ids := make([]string, 0, len(k.transfers))
	for id := range k.transfers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		tr := k.transfers[id]
		rec, err := log.Get(ctx, id)
		if errors.Is(err, ledger.ErrTransferNotFound) {
			if tr.create == "ok" || tr.fulfilled || tr.cancelled {
				t.Fatalf("%s: acknowledged (create %q, fulfilled %v, cancelled %v) but not in the store after the kill", id, tr.create, tr.fulfilled, tr.cancelled)
			}
			continue
		}
		wantOK(t, err, "get "+id)
		if tr.create == "refused" {
			t.Fatalf("%s: its create was refused, yet it is in the store (%s)", id, rec.State)
		}
		if rec.Transfer.Amount != tr.amount || rec.Transfer.Conditional() != tr.conditional || rec.Incoming {
			t.Fatalf("%s: stored amount %d, conditional %v, incoming %v; want %d, %v, false", id, rec.Transfer.Amount, rec.Transfer.Conditional(), rec.Incoming, tr.amount, tr.conditional)
		}
		switch rec.State {
		case ledger.StatePrepared:
			if tr.fulfilled || tr.cancelled {
				t.Fatalf("%s: a resolution was acknowledged but the store says prepared", id)
			}
			prepared = append(prepared, id)
			hold = add(t, hold, int64(tr.amount))
		case ledger.StateExecuted:
			if tr.cancelled || (tr.conditional && !tr.tryFulfill) {
				t.Fatalf("%s: executed, but cancelled %v and fulfill started %v", id, tr.cancelled, tr.tryFulfill)
			}
			if want, _ := fulfillmentFor(id); tr.conditional && rec.Fulfillment != want {
				t.Fatalf("%s: stored fulfillment %q, want %q", id, rec.Fulfillment, want)
			}
			payee = add(t, payee, int64(tr.amount))
		case ledger.StateCancelled:
			if tr.fulfilled || !tr.tryCancel {
				t.Fatalf("%s: cancelled, but fulfilled %v and cancel started %v", id, tr.fulfilled, tr.tryCancel)
			}
		default:
			t.Fatalf("%s: state %q", id, rec.State)
		}
	}
	payer, err := hold.Add(payee)
	wantOK(t, err, "sum")
	payer, err = payer.Neg()
	wantOK(t, err, "negate")
	for name, want := range map[string]ledger.Int128{crashPayer: payer, crashHold: hold, crashPayee: payee} {
		got, err := s.b.Balance(name, opts[name]).Load(ctx)
		wantOK(t, err, "load "+name)
		if got.Cmp(want) != 0 {
			t.Fatalf("after the kill, balance %q = %s but the transfers' states imply %s", name, got, want)
		}
	}
	if payer.Cmp(i128(crashPayerMin)) < 0 {
		t.Fatalf("the payer, %s, is below its minimum %d", payer, crashPayerMin)
	}

	ps, err := log.Prepared(ctx)
	wantOK(t, err, "Prepared")
	got := make([]string, 0, len(ps))
	for _, p := range ps {
		got = append(got, p.Transfer.ID)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(prepared, ",") {
		t.Fatalf("Prepared lists %d transfers, the store holds %d prepared ones:\n%v\n%v", len(got), len(prepared), got, prepared)
	}

	counter, err := s.b.Balance(crashCounter, opts[crashCounter]).Load(ctx)
	wantOK(t, err, "load counter")
	c := int64FromInt128(t, counter)
	if !subsetSum(c-k.counter-k.acked, k.inFlight) {
		t.Fatalf("counter = %d: the last check found %d, the round acknowledged %+d, and no subset of the changes in flight %v makes up the rest", c, k.counter, k.acked, k.inFlight)
	}
	k.counter, k.acked, k.inFlight = c, 0, nil
	t.Logf("after the kill: %d transfers known, %d prepared, payee %s, counter %d (%d changes were in flight)", len(ids), len(prepared), payee, c, len(k.inFlight))

	if !finish {
		return
	}
	holdBal, payerBal := s.b.Balance(crashHold, opts[crashHold]), s.b.Balance(crashPayer, opts[crashPayer])
	for _, p := range ps {
		_, err := log.Cancel(ctx, p.Transfer.ID, ledger.Debit(holdBal, p.Transfer.Amount), ledger.Credit(payerBal, p.Transfer.Amount))
		wantOK(t, err, "cancel "+p.Transfer.ID)
	}
	wantBalance(t, holdBal, ledger.Int128{})
	wantBalance(t, payerBal, add(t, ledger.Int128{}, -int64FromInt128(t, payee)))
}

func int64FromInt128(t testing.TB, v ledger.Int128) int64 {
	t.Helper()
	if !v.IsInt64() {
		t.Fatalf("%s does not fit in an int64", v)
	}
	return v.Int64()
}

// subsetSum reports whether some subset of xs adds up to want.
func subsetSum(want int64, xs []int64) bool {
	if len(xs) > 20 {
		return false
	}
	for mask := 0; mask < 1<<len(xs); mask++ {
		var s int64
		for i, x := range xs {
			if mask&(1<<i) != 0 {
				s += x
			}
		}
		if s == want {
			return true
		}
	}
	return false
}
