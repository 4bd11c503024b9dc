package web

import (
	"net/http"
)

// ledgerBooks is GET /api/admin/ledger (admin): the kit's books. The
// balances of all accounts (the issuer's included) plus the amounts held
// by payments under way add up to zero at every instant; "ok" says they
// do.
func (a *api) ledgerBooks(w http.ResponseWriter, r *http.Request, c *caller) error {
	t, err := a.s.k.Server().Totals(r.Context())
	if err != nil {
		return err
	}
	out := map[string]any{
		"balances": t.Balances.String(), "held": t.Held.String(), "pendingIncoming": t.Pending.String(),
		"sum": t.Sum().String(), "ok": t.Check() == nil,
	}
	if err := t.Check(); err != nil {
		a.s.log.Error("the ledger does not add up", "err", err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
