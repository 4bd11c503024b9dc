package web

import (
	"context"
	"net/http"
	"time"

	"github.com/ilpkit/ilpkit/kit"
	"github.com/ilpkit/ilpkit/kit/store"
)

// listLimit bounds the lists of withdrawals and settlements.
const listLimit = 500

// withdrawalJSON is a withdrawal as the API shows it.
type withdrawalJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Amount    string    `json:"amount"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func withdrawalView(w store.Withdrawal) withdrawalJSON {
	return withdrawalJSON{ID: w.ID, Username: w.Username, Amount: str(w.Amount), Status: w.Status, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// withdraw is POST /api/withdrawals {amount} (user): the amount leaves the
// caller's account at once; the withdrawal waits for the admin.
func (a *api) withdraw(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Amount *Amount `json:"amount"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Amount == nil {
		return apiErr(http.StatusBadRequest, "InvalidBodyError", "amount is required")
	}
	wd, err := a.s.k.Withdraw(r.Context(), c.user, uint64(*body.Amount))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, withdrawalView(wd))
	return nil
}

// listWithdrawals is GET /api/withdrawals: every withdrawal for the admin,
// the caller's own for anyone else; newest first.
func (a *api) listWithdrawals(w http.ResponseWriter, r *http.Request, c *caller) error {
	var userID int64
	if !c.user.IsAdmin {
		userID = c.user.ID
	}
	ws, err := a.s.k.Withdrawals(r.Context(), userID, listLimit)
	if err != nil {
		return err
	}
	out := []withdrawalJSON{}
	for _, wd := range ws {
		out = append(out, withdrawalView(wd))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setWithdrawalStatus is PUT /api/withdrawals/{id} {status} (admin).
func (a *api) setWithdrawalStatus(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Status string `json:"status"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	wd, err := a.s.k.SetWithdrawalStatus(r.Context(), r.PathValue("id"), body.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, withdrawalView(wd))
	return nil
}

// settlementJSON is a settlement as the API shows it.
type settlementJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username,omitempty"`
	PeerID    string    `json:"peerId,omitempty"`
	Hostname  string    `json:"hostname,omitempty"`
	Amount    string    `json:"amount"`
	Currency  string    `json:"currency"`
	Method    string    `json:"method"`
	MethodID  string    `json:"methodId,omitempty"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

func settlementView(s store.Settlement) settlementJSON {
	return settlementJSON{
		ID: s.ID, Username: s.Username, PeerID: s.PeerID, Hostname: s.PeerHost, Amount: str(s.Amount),
		Currency: s.Currency, Method: s.Method, MethodID: s.MethodID, Note: s.Note, CreatedAt: s.CreatedAt,
	}
}

// settlementBody is the body of a settlement the admin records.
type settlementBody struct {
	Amount   *Amount `json:"amount"`
	Currency string  `json:"currency"`
	Method   string  `json:"method"`
	Note     string  `json:"note"`
}

func (b settlementBody) request() (kit.SettlementRequest, error) {
	if b.Amount == nil {
		return kit.SettlementRequest{}, apiErr(http.StatusBadRequest, "InvalidBodyError", "amount is required")
	}
	return kit.SettlementRequest{Amount: uint64(*b.Amount), Currency: b.Currency, Method: b.Method, Note: b.Note}, nil
}

// settleUser is POST /api/settlements/user/{username} (admin): the user
// paid the kit outside the ledger; the issuer credits the user.
func (a *api) settleUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	return a.settle(w, r, a.s.k.SettleUser, r.PathValue("username"))
}

// settlePeer is POST /api/settlements/peer/{peerId} (admin): a record that
// a peer settled outside the ledger; no balance changes.
func (a *api) settlePeer(w http.ResponseWriter, r *http.Request, c *caller) error {
	return a.settle(w, r, a.s.k.SettlePeer, r.PathValue("peerId"))
}

// settle reads a settlement body and records it for who with record.
func (a *api) settle(w http.ResponseWriter, r *http.Request,
	record func(context.Context, string, kit.SettlementRequest) (store.Settlement, error), who string) error {
	var body settlementBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	req, err := body.request()
	if err != nil {
		return err
	}
	st, err := record(r.Context(), who, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, settlementView(st))
	return nil
}

// listSettlements is GET /api/settlements (admin), newest first.
func (a *api) listSettlements(w http.ResponseWriter, r *http.Request, c *caller) error {
	ss, err := a.s.k.Settlements(r.Context(), listLimit)
	if err != nil {
		return err
	}
	out := []settlementJSON{}
	for _, st := range ss {
		out = append(out, settlementView(st))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getSettlement is GET /api/settlements/{id}: for the admin or the user it
// credited; anyone else gets 404, as for a settlement that does not exist.
func (a *api) getSettlement(w http.ResponseWriter, r *http.Request, c *caller) error {
	st, err := a.s.k.Settlement(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if !c.user.IsAdmin && (st.UserID == nil || *st.UserID != c.user.ID) {
		return kitError(kit.ErrSettlementNotFound)
	}
	writeJSON(w, http.StatusOK, settlementView(st))
	return nil
}

// settlementMethodJSON is a settlement method as the API shows it.
type settlementMethodJSON struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	URI         string `json:"uri"`
	Logo        string `json:"logo"`
	Enabled     bool   `json:"enabled"`
}

func settlementMethodView(m store.SettlementMethod) settlementMethodJSON {
	return settlementMethodJSON{ID: m.ID, Type: m.Type, Name: m.Name, Description: m.Description, URI: m.URI, Logo: m.Logo, Enabled: m.Enabled}
}

// listSettlementMethods is GET /api/settlement_methods (public): the
// enabled methods; with ?all=true (admin) every method.
func (a *api) listSettlementMethods(w http.ResponseWriter, r *http.Request) error {
	enabledOnly := true
	if r.URL.Query().Get("all") == "true" {
		c, err := a.authenticate(w, r)
		if err != nil {
			return err
		}
		if !c.user.IsAdmin {
			return errForbidden
		}
		enabledOnly = false
	}
	ms, err := a.s.k.SettlementMethods(r.Context(), enabledOnly)
	if err != nil {
		return err
	}
	out := []settlementMethodJSON{}
	for _, m := range ms {
		out = append(out, settlementMethodView(m))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// settlementMethodBody is a settlement method as the admin gives it.
type settlementMethodBody struct {
	Type        *string `json:"type"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	URI         *string `json:"uri"`
	Logo        *string `json:"logo"`
	Enabled     *bool   `json:"enabled"`
}

func (b settlementMethodBody) input() kit.SettlementMethodInput {
	return kit.SettlementMethodInput{Type: b.Type, Name: b.Name, Description: b.Description, URI: b.URI, Logo: b.Logo, Enabled: b.Enabled}
}

// createSettlementMethod is POST /api/settlement_methods (admin).
func (a *api) createSettlementMethod(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body settlementMethodBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	m, err := a.s.k.CreateSettlementMethod(r.Context(), body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, settlementMethodView(m))
	return nil
}

// updateSettlementMethod is PUT /api/settlement_methods/{id} (admin): the
// fields given change, the others stay.
func (a *api) updateSettlementMethod(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body settlementMethodBody
	if err := decode(w, r, &body); err != nil {
		return err
	}
	m, err := a.s.k.UpdateSettlementMethod(r.Context(), r.PathValue("id"), body.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settlementMethodView(m))
	return nil
}

// deleteSettlementMethod is DELETE /api/settlement_methods/{id} (admin).
func (a *api) deleteSettlementMethod(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.s.k.DeleteSettlementMethod(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// peerSettlementMethods is GET /api/peers/{id}/settlement_methods (admin):
// what the peer answers a settlement_methods_request.
func (a *api) peerSettlementMethods(w http.ResponseWriter, r *http.Request, c *caller) error {
	ms, err := a.s.k.PeerSettlementMethods(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ms)
	return nil
}
