// Package e2e_test runs the trustline server and client across processes:
// the test binary re-executes itself as a "kit" process (two trustline
// servers, kit A and kit B, joined by a connector, on one SQLite database,
// serving the trustline interface on loopback) and as client processes,
// and kills the kit with SIGKILL to check that no money is created or lost.
package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	sqlbackend "github.com/ilpkit/ilpkit/backend/sql"
	"github.com/ilpkit/ilpkit/connector"
	"github.com/ilpkit/ilpkit/ilp"
	"github.com/ilpkit/ilpkit/internal/pgtest"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// The environment of a re-executed test binary.
const (
	envRole  = "TRUSTLINE_E2E_ROLE"   // "kit" or "payer"
	envDB    = "TRUSTLINE_E2E_DB"     // SQLite file of the kit
	envAddr  = "TRUSTLINE_E2E_ADDR"   // listen address of the kit
	envUsers = "TRUSTLINE_E2E_USERS"  // comma-separated user names on each kit
	envHold  = "TRUSTLINE_E2E_HOLD"   // maximum hold time of the kit
	envWin   = "TRUSTLINE_E2E_WINDOW" // the connector's message window (default 1s)
	envKits  = "TRUSTLINE_E2E_KITS"   // "a" or "a,b"
	envURL   = "TRUSTLINE_E2E_URL"    // payer: the kit's trustline URL
	envToken = "TRUSTLINE_E2E_TOKEN"  // payer: its token
	envTo    = "TRUSTLINE_E2E_TO"     // payer: destination account
)

const (
	issuer   = "connector"
	funding  = 1_000_000_000_000 // what each user gets from the issuer at the first start
	currency = "USD"
)

func kitPrefix(kit string) string { return "test.kit" + kit + "." }

// token is the trustline token of user on kit.
func token(kit, user string) string { return "token-" + kit + "-" + user }

// fundingID is the id of the transfer that funds user on kit once: sending
// it again after a restart is a no-op.
func fundingID(kit, user string) string {
	h := sha256.Sum256([]byte("fund " + kit + " " + user))
	return fmt.Sprintf("%x-%x-4%x-8%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case "kit":
		if err := runKit(); err != nil {
			fmt.Fprintln(os.Stderr, "kit:", err)
			os.Exit(1)
		}
		os.Exit(0)
	case "payer":
		if err := runPayer(); err != nil {
			fmt.Fprintln(os.Stderr, "payer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(pgtest.Run(m))
}

// tokens maps the e2e tokens of one kit to their accounts.
type tokens struct {
	kit   string
	users map[string]bool
}

func (t tokens) VerifyToken(_ context.Context, tok string) (string, error) {
	user, ok := strings.CutPrefix(tok, "token-"+t.kit+"-")
	if !ok || !t.users[user] {
		return "", errors.New("unknown token")
	}
	return user, nil
}

// totals is what /debug/totals answers for one kit.
type totals struct {
	Sum      string            `json:"sum"`
	Balances map[string]string `json:"balances"`
	Held     map[string]string `json:"held"`
}

// runKit is the kit process: it serves until killed or interrupted.
func runKit() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	hold, err := time.ParseDuration(os.Getenv(envHold))
	if err != nil {
		return fmt.Errorf("%s: %w", envHold, err)
	}
	window := time.Second
	if w := os.Getenv(envWin); w != "" {
		if window, err = time.ParseDuration(w); err != nil {
			return fmt.Errorf("%s: %w", envWin, err)
		}
	}
	db, err := sqlbackend.Open(ctx, os.Getenv(envDB), sqlbackend.WithLogger(log))
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := connector.New(connector.Config{
		Secret:           []byte("e2e connector secret, kept across restarts"),
		MinMessageWindow: window,
		MaxHoldTime:      hold,
		DisableBroadcast: true,
		Logger:           log,
	})
	if err != nil {
		return err
	}
	defer conn.Close()

	users := strings.Split(os.Getenv(envUsers), ",")
	servers := map[string]*trustline.Server{}
	mux := http.NewServeMux()
	for _, kit := range strings.Split(os.Getenv(envKits), ",") {
		prefix := kitPrefix(kit)
		be, err := db.Backend(ctx, prefix)
		if err != nil {
			return err
		}
		srv, err := trustline.New(trustline.Config{
			Prefix: prefix, CurrencyCode: currency, CurrencyScale: 9, Backend: be,
			Issuer: issuer, MaxHoldTime: hold, Logger: log,
		})
		if err != nil {
			return err
		}
		known := map[string]bool{}
		for _, u := range users {
			if err := srv.CreateAccount(ctx, u, nil); err != nil {
				return err
			}
			known[u] = true
		}
		if err := srv.Connect(ctx); err != nil {
			return err
		}
		defer srv.Close(context.Background())
		view, err := srv.Plugin(issuer)
		if err != nil {
			return err
		}
		if err := view.Connect(ctx); err != nil {
			return err
		}
		for _, u := range users {
			err := view.SendTransfer(ctx, ledger.Transfer{ID: fundingID(kit, u), To: prefix + u, Amount: funding})
			if err != nil {
				return fmt.Errorf("funding %s: %w", u, err)
			}
		}
		if err := conn.AddPlugin(ctx, view, connector.PluginOptions{}); err != nil {
			return err
		}
		servers[kit] = srv
		h := trustline.NewHandler(srv, tokens{kit: kit, users: known}, trustline.HandlerOptions{Logger: log})
		mux.Handle("/"+kit+"/", http.StripPrefix("/"+kit, h))
	}
	if _, err := conn.Recover(ctx); err != nil {
		return err
	}
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/totals", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]totals{}
		for kit, srv := range servers {
			accts, err := srv.Accounts(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			sum, err := srv.Totals(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			t := totals{Sum: sum.String(), Balances: map[string]string{}, Held: map[string]string{}}
			for _, a := range accts {
				t.Balances[a.Name] = a.Balance.String()
				t.Held[a.Name] = a.Held.String()
			}
			out[kit] = t
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	ln, err := net.Listen("tcp", os.Getenv(envAddr))
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Println("READY")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// runPayer is a client process that prepares one payment the receiver
// holds and then waits to be killed.
func runPayer() error {
	ctx := context.Background()
	c, err := trustline.NewClient(trustline.ClientConfig{URL: os.Getenv(envURL), Token: os.Getenv(envToken)})
	if err != nil {
		return err
	}
	if err := c.Connect(ctx); err != nil {
		return err
	}
	f := ilp.Fulfillment(sha256.Sum256([]byte("payer")))
	err = c.SendTransfer(ctx, ledger.Transfer{
		ID: "7a000000-0000-4000-8000-000000000001", To: os.Getenv(envTo), Amount: 1000,
		ExecutionCondition: ilp.ConditionOf(f).String(), ExpiresAt: time.Now().Add(2 * time.Second),
	})
	if err != nil {
		return err
	}
	fmt.Println("SENT")
	select {}
}
