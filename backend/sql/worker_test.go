package sql_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/ledger"
)

// The multi-process test: several OS processes (this test binary run again)
// change the same few balances of one database at once.
const (
	envMPDSN  = "ILPKIT_SQL_MP_DSN"  // set in a worker: the database
	envMPSeed = "ILPKIT_SQL_MP_SEED" // the worker's random seed
	envMPOps  = "ILPKIT_SQL_MP_OPS"  // operations per goroutine
	envMPGo   = "ILPKIT_SQL_MP_GO"   // when to start (Unix ms), so that the workers overlap

	mpProcs      = 4
	mpGoroutines = 16
	mpBalances   = 3
	mpLimit      = 400 // limits are -mpLimit and +mpLimit
)

func mpOptions() ledger.BalanceOptions {
	return ledger.BalanceOptions{
		Minimum: ledger.Limit(ledger.Int128FromInt64(-mpLimit)),
		Maximum: ledger.Limit(ledger.Int128FromInt64(mpLimit)),
	}
}

// runWorker runs a worker process's part when envMPDSN is set: 16
// goroutines doing random Add and Sub on the shared balances, printing one
// line per operation: "ok <balance> <signed amount> <returned balance>" or
// "refused <balance> <signed amount>". Any other error exits with status 1.
// It returns false in an ordinary test process.
func runWorker() bool {
	dsn := os.Getenv(envMPDSN)
	if dsn == "" {
		return false
	}
	if err := mpWork(dsn); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
	os.Exit(0)
	return true
}

func mpWork(dsn string) error {
	seed, _ := strconv.ParseUint(os.Getenv(envMPSeed), 10, 64)
	ops, _ := strconv.Atoi(os.Getenv(envMPOps))
	ctx := context.Background()
	db, err := sqlbackend.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	b, err := db.Backend(ctx, prefix)
	if err != nil {
		return err
	}
	// Start together, whatever each process's start-up took.
	goAt, _ := strconv.ParseInt(os.Getenv(envMPGo), 10, 64)
	time.Sleep(time.Until(time.UnixMilli(goAt)))
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, mpGoroutines)
	for g := 0; g < mpGoroutines; g++ {
		wg.Add(1)
		go func(g uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, g))
			bals := make([]ledger.Balance, mpBalances)
			for i := range bals {
				bals[i] = b.Balance("mp"+strconv.Itoa(i), mpOptions())
			}
			for i := 0; i < ops; i++ {
				k := r.IntN(mpBalances)
				n := uint64(1 + r.IntN(100))
				sub := r.IntN(2) == 0
				var v ledger.Int128
				var err error
				delta := int64(n)
				if sub {
					delta = -delta
					v, err = bals[k].Sub(ctx, n)
				} else {
					v, err = bals[k].Add(ctx, n)
				}
				var line string
				switch {
				case err == nil:
					line = fmt.Sprintf("ok mp%d %d %s\n", k, delta, v)
				case errors.Is(err, ledger.ErrMinimumExceeded), errors.Is(err, ledger.ErrMaximumExceeded):
					line = fmt.Sprintf("refused mp%d %d\n", k, delta)
				default:
					errs <- err
					return
				}
				mu.Lock()
				out.WriteString(line)
				mu.Unlock()
			}
		}(uint64(g))
	}
	wg.Wait()
	close(errs)
	if err := out.Flush(); err != nil {
		return err
	}
	return <-errs
}

// TestMultiProcess: 4 processes x 16 goroutines on 3 limited balances of one
// SQLite file, and of one PostgreSQL database. Every balance a successful
// operation returned is within the limits, and each final balance, read
// afresh, is the start plus the sum of the successful operations.
func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			ctx := context.Background()
			start := map[string]int64{"mp0": 0, "mp1": 350, "mp2": -200}
			func() {
				db := openDB(t, dsn)
				defer db.Close()
				b := backendOf(t, db, prefix)
				for name, v := range start {
					if v >= 0 {
						_, err := b.Balance(name, ledger.BalanceOptions{}).Add(ctx, uint64(v))
						if err != nil {
							t.Fatal(err)
						}
					} else if _, err := b.Balance(name, ledger.BalanceOptions{}).Sub(ctx, uint64(-v)); err != nil {
						t.Fatal(err)
					}
				}
			}()

			ops := 60
			outs := make([]strings.Builder, mpProcs)
			cmds := make([]*exec.Cmd, mpProcs)
			goAt := strconv.FormatInt(time.Now().Add(1500*time.Millisecond).UnixMilli(), 10)
			for p := range cmds {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), envMPDSN+"="+dsn, envMPSeed+"="+strconv.FormatInt(time.Now().UnixNano()+int64(p), 10),
					envMPOps+"="+strconv.Itoa(ops), envMPGo+"="+goAt)
				cmd.Stdout = &outs[p]
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				cmds[p] = cmd
			}
			for p, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					t.Fatalf("worker %d: %v", p, err)
				}
			}

			sum := map[string]int64{}
			var okN, refused int
			for p := range outs {
				lines := strings.Split(strings.TrimSpace(outs[p].String()), "\n")
				if len(lines) != mpGoroutines*ops {
					t.Fatalf("worker %d printed %d lines, want %d", p, len(lines), mpGoroutines*ops)
				}
				for _, l := range lines {
					f := strings.Fields(l)
					delta, err := strconv.ParseInt(f[2], 10, 64)
					if err != nil {
						t.Fatalf("line %q", l)
					}
					switch {
					case f[0] == "ok" && len(f) == 4:
						v, err := strconv.ParseInt(f[3], 10, 64)
						if err != nil || v < -mpLimit || v > mpLimit {
							t.Errorf("worker %d returned balance %s for %s, outside [-%d, %d]", p, f[3], f[1], mpLimit, mpLimit)
						}
						sum[f[1]] += delta
						okN++
					case f[0] == "refused" && len(f) == 3:
						refused++
					default:
						t.Fatalf("line %q", l)
					}
				}
			}
			if refused == 0 || okN == 0 {
				t.Fatalf("%d accepted, %d refused: the limits were not exercised", okN, refused)
			}
			db := openDB(t, dsn)
			b := backendOf(t, db, prefix)
			for name, v0 := range start {
				got, err := b.Balance(name, ledger.BalanceOptions{}).Load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if want := v0 + sum[name]; got.String() != strconv.FormatInt(want, 10) {
					t.Errorf("%s: final %s, want %d + %d = %d", name, got, v0, sum[name], want)
				}
			}
			t.Logf("%d processes x %d goroutines: %d accepted, %d refused", mpProcs, mpGoroutines, okN, refused)
		})
	}
}
