package pluginkit

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ilpkit/ilpkit/ledger"
)

// CallHandler answers req with h, as a plugin that delivers a request to
// the account that registered h does: h runs in a goroutine of its own, so
// a handler that ignores ctx cannot hang the caller (the call returns when
// ctx ends); a panic is recovered; the handler's error (or panic) becomes
// an error response from the account from, made at now(), and is logged.
// name prefixes the messages ("pair", "trustline"). The caller fills in the
// response's ID, Ledger, From and To.
func CallHandler(ctx context.Context, h ledger.RequestHandler, req ledger.Message, from string, now func() time.Time, log *slog.Logger, name string) (ledger.Message, error) {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		resp ledger.Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if v := recover(); v != nil {
				r = result{err: fmt.Errorf("%s: request handler panicked: %v", name, v)}
			}
			done <- r
		}()
		r.resp, r.err = h(hctx, req)
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return ledger.Message{}, fmt.Errorf("%s: request %q: %w", name, req.ID, ctx.Err())
	}
	if r.err == nil {
		return r.resp, nil
	}
	log.Info(name+": request handler failed", "request", req.ID, "err", r.err)
	return ledger.ErrorResponse(req, from, r.err, now())
}
