package e2e_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// kitProc is a running kit process.
type kitProc struct {
	t    testing.TB
	cmd  *exec.Cmd
	addr string
	env  []string
	done chan struct{}
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// newKit prepares (but does not start) a kit process on a fresh database.
func newKit(t testing.TB, kits, users string, hold time.Duration) *kitProc {
	t.Helper()
	k := &kitProc{t: t, addr: freeAddr(t)}
	k.env = append(os.Environ(),
		envRole+"=kit",
		envDB+"="+filepath.Join(t.TempDir(), "kit.db"),
		envAddr+"="+k.addr,
		envUsers+"="+users,
		envKits+"="+kits,
		envHold+"="+hold.String(),
	)
	t.Cleanup(func() { k.kill() })
	return k
}

// start starts the kit process and waits until it serves.
func (k *kitProc) start() {
	k.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The process dies with the test (even one that times out and
	// skips its clean-ups).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Env = k.env
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		k.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "READY" {
				ready <- true
			}
		}
		ready <- false
	}()
	k.cmd, k.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(k.done) }()
	select {
	case ok := <-ready:
		if !ok {
			k.t.Fatal("kit process exited before it was ready")
		}
	case <-time.After(30 * time.Second):
		k.t.Fatal("kit process not ready after 30 s")
	}
}

// kill stops the kit process with SIGKILL and waits for it.
func (k *kitProc) kill() {
	if k.cmd == nil {
		return
	}
	_ = k.cmd.Process.Kill()
	<-k.done
	k.cmd = nil
}

func (k *kitProc) url(kit string) string { return "http://" + k.addr + "/" + kit }

// totals reads the kit's balances and checks that each ledger adds up.
func (k *kitProc) totals() map[string]totals {
	k.t.Helper()
	resp, err := http.Get("http://" + k.addr + "/debug/totals")
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]totals
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		k.t.Fatal(err)
	}
	for kit, tot := range out {
		if tot.Sum != "0" {
			k.t.Errorf("kit %s: balances plus held amounts add up to %s, not 0: %+v", kit, tot.Sum, tot)
		}
	}
	return out
}

// client connects a trustline client for user on kit.
func (k *kitProc) client(kit, user string) *trustline.Client {
	k.t.Helper()
	c, err := trustline.NewClient(trustline.ClientConfig{URL: k.url(kit), Token: token(kit, user)})
	if err != nil {
		k.t.Fatal(err)
	}
	if err := c.Connect(context.Background()); err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// receiver fulfills the incoming transfers whose condition it knows, unless
// told to reject or hold them.
type receiver struct {
	p  ledger.Plugin
	mu sync.Mutex
	// preimage by condition, and what to do with a transfer.
	preimg map[string]ilp.Fulfillment
	action map[string]string // condition -> "reject" | "hold"
}

func receive(t testing.TB, p ledger.Plugin) *receiver {
	r := &receiver{p: p, preimg: map[string]ilp.Fulfillment{}, action: map[string]string{}}
	t.Cleanup(p.Subscribe(func(ev ledger.Event) {
		if ev.Kind != ledger.EventIncomingPrepare {
			return
		}
		tr := ev.Transfer
		r.mu.Lock()
		f, ok := r.preimg[tr.ExecutionCondition]
		act := r.action[tr.ExecutionCondition]
		r.mu.Unlock()
		if !ok || act == "hold" {
			return
		}
		go func() {
			ctx := context.Background()
			if act == "reject" {
				_ = p.RejectIncomingTransfer(ctx, tr.ID, ledger.NewRejection("F99", p.Account(), "refused by the test", time.Now()))
				return
			}
			_ = p.FulfillCondition(ctx, tr.ID, f)
		}()
	}))
	return r
}

// condition registers a payment the receiver will treat with action ("" to
// fulfill) and returns its condition.
func (r *receiver) condition(seed, action string) string {
	f := ilp.Fulfillment(sha256.Sum256([]byte(seed)))
	c := ilp.ConditionOf(f).String()
	r.mu.Lock()
	r.preimg[c] = f
	r.action[c] = action
	r.mu.Unlock()
	return c
}

// outcomes records how each outgoing transfer of a sender ended.
type outcomes struct {
	mu    sync.Mutex
	got   map[string]ledger.EventKind
	codes map[string]string // the rejection code of a rejected or expired transfer
	cond  *sync.Cond
}

func watch(t testing.TB, p ledger.Plugin) *outcomes {
	o := &outcomes{got: map[string]ledger.EventKind{}, codes: map[string]string{}}
	o.cond = sync.NewCond(&o.mu)
	t.Cleanup(p.Subscribe(func(ev ledger.Event) {
		switch ev.Kind {
		case ledger.EventOutgoingFulfill, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
			o.mu.Lock()
			if _, dup := o.got[ev.Transfer.ID]; !dup {
				o.got[ev.Transfer.ID] = ev.Kind
				o.codes[ev.Transfer.ID] = ev.Rejection.Code
			}
			o.mu.Unlock()
			o.cond.Broadcast()
		}
	}))
	return o
}

// code returns the rejection code with which transfer id ended.
func (o *outcomes) code(id string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.codes[id]
}

// wait returns how transfer id ended, failing after d.
func (o *outcomes) wait(t testing.TB, id string, d time.Duration) ledger.EventKind {
	t.Helper()
	timer := time.AfterFunc(d, o.cond.Broadcast)
	defer timer.Stop()
	deadline := time.Now().Add(d)
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		if k, ok := o.got[id]; ok {
			return k
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("transfer %s: no final event after %v", id, d)
		}
		o.cond.Wait()
	}
}

// quote asks the kit's connector how much a source amount delivers to dest.
func quote(t testing.TB, p ledger.Plugin, dest string, amount uint64) uint64 {
	t.Helper()
	req, err := (&ilp.QuoteBySourceRequest{DestinationAccount: dest, SourceAmount: amount, DestinationHoldDuration: 2000}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.SendRequest(context.Background(), ledger.Message{To: connectorAccount(p), ILP: ilp.EncodeBase64URL(req)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ilp.DecodeBase64(resp.ILP)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := ilp.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, ok := pkt.(*ilp.QuoteBySourceResponse)
	if !ok {
		t.Fatalf("quote: got %T %+v", pkt, pkt)
	}
	return q.DestinationAmount
}

func connectorAccount(p ledger.Plugin) string { return p.Info().Prefix + issuer }

// payment builds the transfer paying dest (an account on another kit) amount
// at the destination through the connector.
func payment(t testing.TB, p ledger.Plugin, id, dest string, srcAmount, dstAmount uint64, cond string, hold time.Duration) ledger.Transfer {
	t.Helper()
	pkt, err := (&ilp.Payment{Amount: dstAmount, Account: dest}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Transfer{
		ID: id, To: connectorAccount(p), Amount: srcAmount, ILP: ilp.EncodeBase64URL(pkt),
		ExecutionCondition: cond, ExpiresAt: time.Now().Add(hold),
	}
}

func uuid(n int, tag byte) string {
	return fmt.Sprintf("%08x-0000-4000-8%03x-%012x", n, tag, n)
}

func big10(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("not a decimal: " + s)
	}
	return v
}

// balanceOf reads one balance from totals.
func balanceOf(tot map[string]totals, kit, user string) *big.Int {
	return big10(tot[kit].Balances[user])
}
