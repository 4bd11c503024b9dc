package ledgertest

import (
	"os"
	"testing"
)

// Run runs the whole conformance suite against the backend h describes,
// each part as a sub-test of t. Every sub-test uses a store of its own.
func Run(t *testing.T, h Harness) {
	h.check(t)
	t.Run("Balance", func(t *testing.T) { runBalance(t, h) })
	t.Run("TransferLog", func(t *testing.T) { runTransferLog(t, h) })
	t.Run("Atomic", func(t *testing.T) { runAtomic(t, h) })
	t.Run("Concurrency", func(t *testing.T) { runConcurrency(t, h) })
	t.Run("Restart", func(t *testing.T) { runRestart(t, h) })
	t.Run("SharedStore", func(t *testing.T) { runShared(t, h) })
	t.Run("Crash", func(t *testing.T) { runCrash(t, h) })
}

// Main is the TestMain of a backend's test package. In a child process
// started by the crash test it runs the worker for the harness named in
// EnvWorker and exits; otherwise it runs the package's tests and exits with
// their status.
func Main(m *testing.M, hs ...Harness) {
	if RunWorker(hs...) {
		os.Exit(0)
	}
	os.Exit(m.Run())
}
