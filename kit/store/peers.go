package store

import (
	"context"
	"fmt"
	"time"
)

// Peer is a row of kit_peers: another kit this kit has a trustline with.
// Its balance and transfers live in the 2.x plugin_store_ table of its
// prefix.
type Peer struct {
	ID            string
	Hostname      string
	PublicKey     string
	RPCURI        string
	Prefix        string
	CurrencyCode  string
	CurrencyScale int
	// MaxBalance is the credit this kit extends to the peer, in base units.
	MaxBalance int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const peerColumns = `id, hostname, public_key, rpc_uri, prefix, currency_code, currency_scale, max_balance, created_at, updated_at`

func scanPeer(row interface{ Scan(...any) error }) (Peer, error) {
	var p Peer
	var created, updated int64
	if err := row.Scan(&p.ID, &p.Hostname, &p.PublicKey, &p.RPCURI, &p.Prefix, &p.CurrencyCode, &p.CurrencyScale, &p.MaxBalance, &created, &updated); err != nil {
		return Peer{}, err
	}
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return p, nil
}

// CreatePeer stores a peer; ErrConflict when its host or prefix is taken.
func (s *Store) CreatePeer(ctx context.Context, p Peer) (Peer, error) {
	now := s.millis()
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_peers (`+peerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		p.ID, p.Hostname, p.PublicKey, p.RPCURI, p.Prefix, p.CurrencyCode, p.CurrencyScale, p.MaxBalance, now, now)
	if isUnique(err) {
		return Peer{}, fmt.Errorf("%w: peer %s", ErrConflict, p.Hostname)
	}
	if err != nil {
		return Peer{}, fmt.Errorf("store: create peer: %w", err)
	}
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(now).UTC(), time.UnixMilli(now).UTC()
	return p, nil
}

// Peer returns a peer, or ErrNotFound.
func (s *Store) Peer(ctx context.Context, id string) (Peer, error) {
	p, err := scanPeer(s.db.QueryRowContext(ctx, s.q(`SELECT `+peerColumns+` FROM kit_peers WHERE id = ?`), id))
	return p, notFound(err, "peer")
}

// Peers lists the peers by host name.
func (s *Store) Peers(ctx context.Context) ([]Peer, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+peerColumns+` FROM kit_peers ORDER BY hostname`)
	if err != nil {
		return nil, fmt.Errorf("store: peers: %w", err)
	}
	defer rows.Close()
	var out []Peer
	for rows.Next() {
		p, err := scanPeer(rows)
		if err != nil {
			return nil, fmt.Errorf("store: peers: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetPeerMaxBalance changes the credit extended to a peer.
func (s *Store) SetPeerMaxBalance(ctx context.Context, id string, max int64) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE kit_peers SET max_balance = ?, updated_at = ? WHERE id = ?`), max, s.millis(), id)
	if err != nil {
		return fmt.Errorf("store: peer limit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: peer %s", ErrNotFound, id)
	}
	return nil
}

// DeletePeer removes a peer (its trustline table stays, so its balance
// comes back if the peer is added again).
func (s *Store) DeletePeer(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_peers WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete peer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: peer %s", ErrNotFound, id)
	}
	return nil
}
