package web

import (
	"net/http"
	"time"

	"github.com/ilpkit/ilpkit/kit"
)

// peerJSON is a peer as the admin sees it.
type peerJSON struct {
	ID            string    `json:"id"`
	Hostname      string    `json:"hostname"`
	Prefix        string    `json:"prefix"`
	PublicKey     string    `json:"publicKey"`
	CurrencyCode  string    `json:"currencyCode"`
	CurrencyScale int       `json:"currencyScale"`
	Limit         string    `json:"limit"`   // base units: the credit extended to the peer
	Balance       string    `json:"balance"` // what the peer owes this kit (negative: the kit owes)
	Online        bool      `json:"online"`
	CreatedAt     time.Time `json:"createdAt"`
}

func peerView(p kit.PeerStatus) peerJSON {
	return peerJSON{
		ID: p.ID, Hostname: p.Hostname, Prefix: p.Prefix, PublicKey: p.PublicKey,
		CurrencyCode: p.CurrencyCode, CurrencyScale: p.CurrencyScale, Limit: str(p.MaxBalance),
		Balance: p.Balance.String(), Online: p.Online, CreatedAt: p.CreatedAt,
	}
}

// peerStatusTimeout bounds the online check of each peer in a listing.
const peerStatusTimeout = 2 * time.Second

// listPeers is GET /api/peers (admin): every peer with its balance, limit
// and whether it answers; a peer that is down does not hold up the list.
func (a *api) listPeers(w http.ResponseWriter, r *http.Request, c *caller) error {
	ps, err := a.s.k.Peers(r.Context(), peerStatusTimeout)
	if err != nil {
		return err
	}
	out := []peerJSON{}
	for _, p := range ps {
		out = append(out, peerView(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addPeer is POST /api/peers (admin) {hostname, limit, currencyCode?,
// currencyScale?}: looks the kit up and starts the trustline.
func (a *api) addPeer(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Hostname      string  `json:"hostname"`
		Limit         *Amount `json:"limit"`
		CurrencyCode  string  `json:"currencyCode"`
		CurrencyScale *int    `json:"currencyScale"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Limit == nil || body.Hostname == "" {
		return apiErr(http.StatusBadRequest, "InvalidBodyError", "hostname and limit are required")
	}
	p, err := a.s.k.AddPeer(r.Context(), kit.PeerRequest{
		Hostname: body.Hostname, Limit: uint64(*body.Limit), CurrencyCode: body.CurrencyCode, CurrencyScale: body.CurrencyScale,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, peerView(kit.PeerStatus{Peer: p}))
	return nil
}

// updatePeer is PUT /api/peers/{id} (admin) {limit}.
func (a *api) updatePeer(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body struct {
		Limit *Amount `json:"limit"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if body.Limit == nil {
		return apiErr(http.StatusBadRequest, "InvalidBodyError", "limit is required")
	}
	if err := a.s.k.SetPeerLimit(r.Context(), r.PathValue("id"), uint64(*body.Limit)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deletePeer is DELETE /api/peers/{id} (admin).
func (a *api) deletePeer(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.s.k.RemovePeer(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
