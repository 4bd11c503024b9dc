// Command ilpkit is the ILP Kit binary: an Interledger wallet and connector
// for a community. "ilpkit serve" runs the kit; the other commands are
// tools (packet, curve).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is the kit's release; overridden at link time with
// -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// errUsage marks an error caused by how the command was called; the
// command prints the usage text with it and exits with status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `ilpkit %s: an Interledger wallet and connector

Usage:
  ilpkit <command> [arguments]

Commands:
  serve            run the kit (see "ilpkit serve --help")
  client           use a kit as one of its users: balance, quote, pay, listen
  version          print the version
  packet decode    decode an ILP packet (hex, base64 or base64url) to JSON
  packet encode    encode the JSON that "packet decode" prints back to hex
  curve            run liquidity-curve operations, one JSON line per operation
  help             print this text
`

// run executes one command line and returns the process exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stdout, usage, version)
		return 0
	}
	var err error
	switch args[0] {
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "ilpkit %s\n", version)
	case "help", "--help", "-h":
		fmt.Fprintf(stdout, usage, version)
	case "serve":
		err = runServe(ctx, args[1:], os.Getenv, stdout, stderr)
	case "client":
		err = runClient(ctx, args[1:], os.Getenv, stdout, stderr)
	case "packet":
		err = runPacket(ctx, args[1:], stdin, stdout)
	case "curve":
		err = runCurve(ctx, args[1:], stdin, stdout)
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "ilpkit: %v\n", err)
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "\n"+usage, version)
		return 2
	}
	return 1
}
