package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
)

// inviteJSON is an invite code as the API shows it.
type inviteJSON struct {
	Code      string     `json:"code"`
	Amount    string     `json:"amount"`
	Claimed   bool       `json:"claimed"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	ClaimedAt *time.Time `json:"claimedAt,omitempty"`
}

func inviteView(in store.Invite, full bool) inviteJSON {
	j := inviteJSON{Code: in.Code, Amount: str(in.Amount), Claimed: in.ClaimedAt != nil}
	if full {
		j.CreatedAt, j.ClaimedAt = &in.CreatedAt, in.ClaimedAt
	}
	return j
}

// listInvites is GET /api/invites (admin).
func (a *api) listInvites(w http.ResponseWriter, r *http.Request, c *caller) error {
	ins, err := a.s.k.Store().Invites(r.Context())
	if err != nil {
		return err
	}
	out := []inviteJSON{}
	for _, in := range ins {
		out = append(out, inviteView(in, true))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createInvite is POST /api/invites (admin) {amount}: a new code whose
// amount (base units, "0" for none) the new user receives.
func (a *api) createInvite(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Amount *Amount `json:"amount"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	var amount int64
	if body.Amount != nil {
		amount = int64(*body.Amount)
	}
	in, err := a.s.k.CreateInvite(r.Context(), amount)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inviteView(in, true))
	return nil
}

// getInvite is GET /api/invites/{code} (public): whether a code is good.
func (a *api) getInvite(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	if len(code) > 100 {
		return errNotFound
	}
	in, err := a.s.k.Store().Invite(r.Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		return apiErr(http.StatusNotFound, "NotFoundError", "no such invite")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inviteView(in, false))
	return nil
}

// deleteInvite is DELETE /api/invites/{code} (admin).
func (a *api) deleteInvite(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := a.s.k.Store().DeleteInvite(r.Context(), r.PathValue("code"))
	if errors.Is(err, store.ErrNotFound) {
		return apiErr(http.StatusNotFound, "NotFoundError", "no such invite")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
