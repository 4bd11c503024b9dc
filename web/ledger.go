package web

import (
	"net/http"

	"github.com/ilpkit/ilpkit/kit"
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

// defaultLimitsJSON is the default limits of users, as decimal strings of
// base units, null for the built-in default (minimum 0, no maximum).
type defaultLimitsJSON struct {
	MinBalance *string `json:"minBalance"`
	MaxBalance *string `json:"maxBalance"`
}

func defaultLimitsView(d kit.DefaultLimits) defaultLimitsJSON {
	var out defaultLimitsJSON
	if d.Min != nil {
		s := str(*d.Min)
		out.MinBalance = &s
	}
	if d.Max != nil {
		s := str(*d.Max)
		out.MaxBalance = &s
	}
	return out
}

// getDefaultLimits is GET /api/admin/limits (admin).
func (a *api) getDefaultLimits(w http.ResponseWriter, r *http.Request, c *caller) error {
	writeJSON(w, http.StatusOK, defaultLimitsView(a.s.k.Defaults()))
	return nil
}

// setDefaultLimits is PUT /api/admin/limits (admin) {minBalance,
// maxBalance}: the limits of every user without limits of its own.
func (a *api) setDefaultLimits(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		MinBalance Limit `json:"minBalance"`
		MaxBalance Limit `json:"maxBalance"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	var d kit.DefaultLimits
	if body.MinBalance.Set {
		d.Min = &body.MinBalance.V
	}
	if body.MaxBalance.Set {
		d.Max = &body.MaxBalance.V
	}
	if err := a.s.k.SetDefaultLimits(r.Context(), d); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, defaultLimitsView(a.s.k.Defaults()))
	return nil
}
