package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pluginkit"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
	"github.com/ilpkit/ilpkit/psk"
	"github.com/ilpkit/ilpkit/spsp"
)

const clientUsage = `Usage: ilpkit client <command> [flags]

Connects to a kit as one of its users, over the kit's trustline interface
(--url, ILPKIT_URL: the kit's http(s)://host/api/trustline; --token,
ILPKIT_TOKEN: a token from the kit's settings page). The client keeps no
state.

Commands:
  balance                         print the balance (base units)
  quote --to <receiver> (--amount N | --receive N)
                                  what paying would cost or deliver
  pay --to <receiver> (--amount N | --receive N) [--message text]
                                  pay: the receiver is user@host or an SPSP URL;
                                  a raw ILP address needs --shared-secret
  listen [--secret s]             receive PSK payments with a receiver of the
                                  client's own, printing its address and shared
                                  secret, then one JSON line per payment

Amounts are integers in base units (--amount: what you send; --receive: what
the receiver gets).
`

// clientFlags are the flags every client command takes.
type clientFlags struct {
	fs        *flag.FlagSet
	url       *string
	token     *string
	insecure  *bool
	to        *string
	amount    *string
	receive   *string
	message   *string
	secret    *string
	sharedSec *string
	timeout   *time.Duration
}

func newClientFlags(name string, getenv func(string) string, stderr io.Writer) clientFlags {
	fs := flag.NewFlagSet("client "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return clientFlags{
		fs:        fs,
		url:       fs.String("url", getenv("ILPKIT_URL"), "the kit's trustline interface, http(s)://host/api/trustline (ILPKIT_URL)"),
		token:     fs.String("token", getenv("ILPKIT_TOKEN"), "the user's token (ILPKIT_TOKEN)"),
		insecure:  fs.Bool("allow-http", getenv("ILPKIT_ALLOW_HTTP_PEERS") == "true", "resolve receivers over plain HTTP (tests on loopback)"),
		to:        fs.String("to", "", "receiver: user@host, an SPSP URL, or an ILP address"),
		amount:    fs.String("amount", "", "source amount in base units"),
		receive:   fs.String("receive", "", "destination amount in base units"),
		message:   fs.String("message", "", "message to the receiver"),
		secret:    fs.String("secret", "", "listen: the receiver secret (default: random, printed)"),
		sharedSec: fs.String("shared-secret", "", "pay to a raw ILP address: its PSK shared secret (base64url)"),
		timeout:   fs.Duration("timeout", 60*time.Second, "give up after this long"),
	}
}

func runClient(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stdout, clientUsage)
		return nil
	}
	cmd := args[0]
	f := newClientFlags(cmd, getenv, stderr)
	if err := f.fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *f.url == "" || *f.token == "" {
		return fmt.Errorf("%w: --url and --token (or ILPKIT_URL and ILPKIT_TOKEN) are required", errUsage)
	}
	switch cmd {
	case "balance", "quote", "pay", "listen":
	default:
		return fmt.Errorf("%w: unknown client command %q", errUsage, cmd)
	}
	// listen runs until interrupted; the other commands until --timeout.
	if cmd != "listen" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *f.timeout)
		defer cancel()
	}
	c, err := trustline.NewClient(trustline.ClientConfig{URL: *f.url, Token: *f.token})
	if err != nil {
		return err
	}
	if err := c.Connect(ctx); err != nil {
		return fmt.Errorf("connecting to %s: %w", *f.url, err)
	}
	defer c.Disconnect(context.WithoutCancel(ctx))
	switch cmd {
	case "balance":
		b, err := c.Balance(ctx)
		if err != nil {
			return err
		}
		info := c.Info()
		fmt.Fprintf(stdout, "%s %s (scale %d) on %s\n", b, info.CurrencyCode, info.CurrencyScale, c.Account())
		return nil
	case "listen":
		return clientListen(ctx, c, *f.secret, stdout)
	}
	return clientPay(ctx, c, f, cmd == "pay", stdout)
}

// target is a resolved receiver.
type target struct {
	account string
	secret  []byte
	name    string
}

func resolveTarget(ctx context.Context, f clientFlags) (target, error) {
	to := strings.TrimSpace(*f.to)
	if to == "" {
		return target{}, fmt.Errorf("%w: --to is required", errUsage)
	}
	if *f.sharedSec != "" || (!strings.Contains(to, "@") && !strings.Contains(to, "://")) {
		if err := ilp.ValidateAddress(to); err != nil {
			return target{}, fmt.Errorf("%w: --to %q: %v", errUsage, to, err)
		}
		t := target{account: to, name: to}
		if *f.sharedSec != "" {
			s, err := ilp.DecodeBase64(*f.sharedSec)
			if err != nil || len(s) == 0 {
				return target{}, fmt.Errorf("%w: --shared-secret is not base64url", errUsage)
			}
			t.secret = s
		}
		return t, nil
	}
	sc := &spsp.Client{HTTP: &http.Client{Timeout: 15 * time.Second}, AllowHTTP: *f.insecure}
	r, err := sc.Resolve(ctx, to)
	if err != nil {
		return target{}, err
	}
	name := r.ReceiverInfo.Name
	if name == "" {
		name = to
	}
	return target{account: r.DestinationAccount, secret: r.Secret, name: name}, nil
}

func parseAmount(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("%w: amount %q is not a positive integer of base units", errUsage, s)
	}
	return v, nil
}

// clientQuote asks the kit's connector (the ledger's recommended
// connector) with binary ILQP.
func clientQuote(ctx context.Context, c *trustline.Client, req ilp.Packet) (ilp.Packet, error) {
	conns := c.Info().Connectors
	if len(conns) == 0 {
		return nil, errors.New("the kit names no connector")
	}
	b, err := req.MarshalBinary()
	if err != nil {
		return nil, err
	}
	resp, err := c.SendRequest(ctx, ledger.Message{To: conns[0], ILP: ilp.EncodeBase64URL(b)})
	if err != nil {
		return nil, err
	}
	raw, err := ilp.DecodeBase64(resp.ILP)
	if err != nil {
		return nil, fmt.Errorf("quote answer: %w", err)
	}
	pkt, err := ilp.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("quote answer: %w", err)
	}
	if e, ok := pkt.(*ilp.Error); ok {
		return nil, fmt.Errorf("no quote: %s %s %s", e.Code, e.Name, e.Data)
	}
	return pkt, nil
}

func clientPay(ctx context.Context, c *trustline.Client, f clientFlags, pay bool, stdout io.Writer) error {
	if (*f.amount == "") == (*f.receive == "") {
		return fmt.Errorf("%w: give --amount or --receive", errUsage)
	}
	t, err := resolveTarget(ctx, f)
	if err != nil {
		return err
	}
	const destHold = 5000 // ms
	var src, dst uint64
	var holdMs uint32
	if *f.amount != "" {
		if src, err = parseAmount(*f.amount); err != nil {
			return err
		}
		pkt, err := clientQuote(ctx, c, &ilp.QuoteBySourceRequest{DestinationAccount: t.account, SourceAmount: src, DestinationHoldDuration: destHold})
		if err != nil {
			return err
		}
		q, ok := pkt.(*ilp.QuoteBySourceResponse)
		if !ok {
			return fmt.Errorf("unexpected quote answer %T", pkt)
		}
		dst, holdMs = q.DestinationAmount, q.SourceHoldDuration
	} else {
		if dst, err = parseAmount(*f.receive); err != nil {
			return err
		}
		pkt, err := clientQuote(ctx, c, &ilp.QuoteByDestinationRequest{DestinationAccount: t.account, DestinationAmount: dst, DestinationHoldDuration: destHold})
		if err != nil {
			return err
		}
		q, ok := pkt.(*ilp.QuoteByDestinationResponse)
		if !ok {
			return fmt.Errorf("unexpected quote answer %T", pkt)
		}
		src, holdMs = q.SourceAmount, q.SourceHoldDuration
	}
	if !pay {
		return json.NewEncoder(stdout).Encode(map[string]string{
			"destination": t.account, "sourceAmount": strconv.FormatUint(src, 10), "destinationAmount": strconv.FormatUint(dst, 10),
			"sourceHoldDuration": strconv.FormatUint(uint64(holdMs), 10),
		})
	}
	if t.secret == nil {
		return fmt.Errorf("%w: paying a raw ILP address needs --shared-secret", errUsage)
	}
	var hdrs psk.Headers
	if *f.message != "" {
		hdrs = psk.Headers{{Name: "Message", Value: *f.message}}
	}
	pkt, err := psk.CreatePacketAndCondition(psk.PaymentParams{
		DestinationAccount: t.account, DestinationAmount: dst, SharedSecret: t.secret, Headers: hdrs, Rand: rand.Reader,
	})
	if err != nil {
		return err
	}
	id := pluginkit.NewID()
	done := make(chan ledger.Event, 1)
	defer c.Subscribe(func(ev ledger.Event) {
		if ev.Transfer.ID != id {
			return
		}
		switch ev.Kind {
		case ledger.EventOutgoingFulfill, ledger.EventOutgoingReject, ledger.EventOutgoingCancel:
			select {
			case done <- ev:
			default:
			}
		}
	})()
	hold := time.Duration(holdMs)*time.Millisecond + time.Second
	if err := c.SendTransfer(ctx, ledger.Transfer{
		ID: id, To: c.Info().Connectors[0], Amount: src, ILP: pkt.ILP(),
		ExecutionCondition: pkt.Condition.String(), ExpiresAt: time.Now().Add(hold),
	}); err != nil {
		return err
	}
	select {
	case ev := <-done:
		if ev.Kind != ledger.EventOutgoingFulfill {
			return fmt.Errorf("payment failed: %s %s", ev.Rejection.Code, ev.Rejection.Message)
		}
		fmt.Fprintf(stdout, "paid %d, %s received %d (transfer %s)\n", src, t.name, dst, id)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("no answer before the timeout: the transfer %s ends on its own by %s", id, time.Now().Add(hold).Format(time.RFC3339))
	}
}

// clientListen runs a PSK receiver of the client's own on the user's
// account: the kit's receiver leaves payments for another receiver id
// alone, and the client fulfills them.
func clientListen(ctx context.Context, c *trustline.Client, secretFlag string, stdout io.Writer) error {
	secret := []byte(secretFlag)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
	}
	params, err := psk.GenerateParams(rand.Reader, c.Account(), secret)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(map[string]string{
		"destination_account": params.DestinationAccount, "shared_secret": ilp.EncodeBase64URL(params.SharedSecret),
	}); err != nil {
		return err
	}
	r := psk.Receiver{Account: c.Account(), Secret: secret}
	lines := make(chan map[string]string, 64)
	defer c.Subscribe(func(ev ledger.Event) {
		if ev.Kind != ledger.EventIncomingPrepare || ev.Transfer.ILP == "" {
			return
		}
		t := ev.Transfer
		acc, err := r.Receive(psk.Incoming{Amount: t.Amount, ExecutionCondition: t.ExecutionCondition, ExpiresAt: t.ExpiresAt, ILP: t.ILP})
		if errors.Is(err, psk.ErrNotMine) {
			return
		}
		go func() {
			var rej *psk.Rejection
			if errors.As(err, &rej) {
				_ = c.RejectIncomingTransfer(ctx, t.ID, ledger.NewRejection(rej.Code, c.Account(), rej.Message, time.Now()))
				return
			}
			if err != nil {
				return
			}
			// Retry while the connection is down (the client reconnects)
			// and the transfer has not expired.
			for {
				err := c.FulfillCondition(ctx, t.ID, acc.Fulfillment)
				if err == nil {
					break
				}
				if !errors.Is(err, ledger.ErrNotConnected) || !time.Now().Before(t.ExpiresAt) || ctx.Err() != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			lines <- map[string]string{"transfer": t.ID, "amount": strconv.FormatUint(t.Amount, 10),
				"from": acc.Details.Headers.Get("source-identifier"), "message": acc.Details.Headers.Get("message")}
		}()
	})()
	for {
		select {
		case l := <-lines:
			if err := enc.Encode(l); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
}
