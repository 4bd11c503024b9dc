// Command ilp-connector is the standalone Interledger v1 connector of ILP Kit:
// a thin main around package connector, the Go counterpart of the 2017
// ilp-connector's scripts/server.js. It reads its ledgers, peers, routes and
// rates from CONNECTOR_* environment variables in their 2017 shapes (or flags,
// or a JSON file), peers with other connectors over ilp-plugin-virtual HTTP
// RPC, can hold in-process "local" ledgers of one user account each, and
// serves the peer RPC endpoint (POST /rpc), /health and Prometheus /metrics on
// one HTTP listener. Run it with --help for every setting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// defaultGCPercent is the GOGC of the process when the environment does
// not set GOGC. A connector's live heap is small, while every payment
// allocates tens of kilobytes (HTTP, JSON, PSK crypto), so at the runtime's
// default of 100 the collector took about a fifth of the CPU under load
// (two connectors on loopback, 50 payments at a time). 400 collects four
// times less often, for +10-20 % payments/s and a lower p99, at the cost of
// a peak heap of up to five times the live heap instead of twice. Set
// GOGC (or GOMEMLIMIT) to override.
const defaultGCPercent = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run starts a connector from the command line and environment (KEY=value
// entries), serves until ctx is done, shuts down and returns the exit status.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	cfg, err := loadConfig(args, func(k string) string { return env[k] }, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ilp-connector: %v\n", err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)
	known := map[string]bool{}
	for _, s := range settings() {
		known[s.env] = true
	}
	for k := range env {
		if strings.HasPrefix(k, "CONNECTOR_") && !known[k] {
			log.Warn("ignoring an unsupported setting", "name", k)
		}
	}
	m := &Main{Config: cfg, Logger: log}
	if err := m.Open(ctx); err != nil {
		log.Error("start", "err", err)
		_ = m.Close(context.Background())
		return 1
	}
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
