package store

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"time"
)

// Withdrawal statuses. A withdrawal starts pending; the admin moves it to
// processing, completed or rejected; completed and rejected are final.
const (
	WithdrawalPending    = "pending"
	WithdrawalProcessing = "processing"
	WithdrawalCompleted  = "completed"
	WithdrawalRejected   = "rejected"
)

// Withdrawal is a row of kit_withdrawals: a user's request to take Amount
// base units out of the kit, which left the user's account for the
// issuer's when it was made.
type Withdrawal struct {
	ID         string
	UserID     int64
	Username   string // filled by the queries (a join)
	Amount     int64
	Status     string
	TransferID string // the transfer that debited the user
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

const withdrawalColumns = `w.id, w.user_id, u.username, w.amount, w.status, w.transfer_id, w.created_at, w.updated_at`

func scanWithdrawal(row interface{ Scan(...any) error }) (Withdrawal, error) {
	var w Withdrawal
	var created, updated int64
	if err := row.Scan(&w.ID, &w.UserID, &w.Username, &w.Amount, &w.Status, &w.TransferID, &created, &updated); err != nil {
		return Withdrawal{}, err
	}
	w.CreatedAt, w.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return w, nil
}

// CreateWithdrawal stores a withdrawal with its status; ErrConflict when
// its id or transfer is taken.
func (s *Store) CreateWithdrawal(ctx context.Context, w Withdrawal) (Withdrawal, error) {
	now := s.millis()
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_withdrawals (id, user_id, amount, status, transfer_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), w.ID, w.UserID, w.Amount, w.Status, w.TransferID, now, now)
	if isUnique(err) {
		return Withdrawal{}, fmt.Errorf("%w: withdrawal %s", ErrConflict, w.ID)
	}
	if err != nil {
		return Withdrawal{}, fmt.Errorf("store: create withdrawal: %w", err)
	}
	return s.Withdrawal(ctx, w.ID)
}

// Withdrawal returns a withdrawal, or ErrNotFound.
func (s *Store) Withdrawal(ctx context.Context, id string) (Withdrawal, error) {
	w, err := scanWithdrawal(s.db.QueryRowContext(ctx, s.q(`SELECT `+withdrawalColumns+`
		FROM kit_withdrawals w JOIN kit_users u ON u.id = w.user_id WHERE w.id = ?`), id))
	return w, notFound(err, "withdrawal")
}

// Withdrawals lists withdrawals, newest first: a user's (userID > 0) or
// everyone's (userID 0), at most limit.
func (s *Store) Withdrawals(ctx context.Context, userID int64, limit int) ([]Withdrawal, error) {
	var rows *stdsql.Rows
	var err error
	if userID > 0 {
		rows, err = s.db.QueryContext(ctx, s.q(`SELECT `+withdrawalColumns+` FROM kit_withdrawals w JOIN kit_users u ON u.id = w.user_id
			WHERE w.user_id = ? ORDER BY w.created_at DESC, w.id DESC LIMIT ?`), userID, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, s.q(`SELECT `+withdrawalColumns+` FROM kit_withdrawals w JOIN kit_users u ON u.id = w.user_id
			ORDER BY w.created_at DESC, w.id DESC LIMIT ?`), limit)
	}
	if err != nil {
		return nil, fmt.Errorf("store: withdrawals: %w", err)
	}
	defer rows.Close()
	var out []Withdrawal
	for rows.Next() {
		w, err := scanWithdrawal(rows)
		if err != nil {
			return nil, fmt.Errorf("store: withdrawals: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// SetWithdrawalStatus moves a withdrawal to status if its status is one
// of from, and reports whether it did: of two callers at once, one moves
// it. ErrNotFound when there is no such withdrawal.
func (s *Store) SetWithdrawalStatus(ctx context.Context, id, status string, from ...string) (bool, error) {
	if len(from) == 0 {
		return false, fmt.Errorf("store: withdrawal status: no from")
	}
	args := []any{status, s.millis(), id}
	in := ""
	for i, f := range from {
		if i > 0 {
			in += ", "
		}
		in += "?"
		args = append(args, f)
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE kit_withdrawals SET status = ?, updated_at = ? WHERE id = ? AND status IN (`+in+`)`), args...)
	if err != nil {
		return false, fmt.Errorf("store: withdrawal status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	if _, err := s.Withdrawal(ctx, id); err != nil {
		return false, err
	}
	return false, nil
}

// DeleteWithdrawal removes a withdrawal whose transfer never happened.
func (s *Store) DeleteWithdrawal(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_withdrawals WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete withdrawal: %w", err)
	}
	return nil
}

// Settlement is a row of kit_settlements: money that came into the kit
// outside the ledger (cash, a bank transfer...), recorded by the admin for
// a user (whom the issuer then paid) or for a peer.
type Settlement struct {
	ID         string
	UserID     *int64 // the user credited, or nil
	Username   string // filled by the queries
	PeerID     string // the peer that settled, or ""
	PeerHost   string
	Amount     int64
	Currency   string
	Method     string // the settlement method's name, or free text
	MethodID   string // a configured method, or ""
	Note       string
	TransferID string // the issuer's payment to the user, or ""
	CreatedAt  time.Time
}

const settlementColumns = `s.id, s.user_id, COALESCE(u.username, ''), COALESCE(s.peer_id, ''), s.peer_host, s.amount, s.currency,
	s.method, COALESCE(s.method_id, ''), s.note, COALESCE(s.transfer_id, ''), s.created_at`

func scanSettlement(row interface{ Scan(...any) error }) (Settlement, error) {
	var st Settlement
	var user stdsql.NullInt64
	var created int64
	if err := row.Scan(&st.ID, &user, &st.Username, &st.PeerID, &st.PeerHost, &st.Amount, &st.Currency,
		&st.Method, &st.MethodID, &st.Note, &st.TransferID, &created); err != nil {
		return Settlement{}, err
	}
	if user.Valid {
		st.UserID = &user.Int64
	}
	st.CreatedAt = time.UnixMilli(created).UTC()
	return st, nil
}

// CreateSettlement stores a settlement; ErrConflict when its id is taken.
func (s *Store) CreateSettlement(ctx context.Context, st Settlement) (Settlement, error) {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_settlements
		(id, user_id, peer_id, peer_host, amount, currency, method, method_id, note, transfer_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		st.ID, nullInt(st.UserID), nullString(st.PeerID), st.PeerHost, st.Amount, st.Currency, st.Method,
		nullString(st.MethodID), st.Note, nullString(st.TransferID), s.millis())
	if isUnique(err) {
		return Settlement{}, fmt.Errorf("%w: settlement %s", ErrConflict, st.ID)
	}
	if err != nil {
		return Settlement{}, fmt.Errorf("store: create settlement: %w", err)
	}
	return s.Settlement(ctx, st.ID)
}

// Settlement returns a settlement, or ErrNotFound.
func (s *Store) Settlement(ctx context.Context, id string) (Settlement, error) {
	st, err := scanSettlement(s.db.QueryRowContext(ctx, s.q(`SELECT `+settlementColumns+`
		FROM kit_settlements s LEFT JOIN kit_users u ON u.id = s.user_id WHERE s.id = ?`), id))
	return st, notFound(err, "settlement")
}

// Settlements lists the settlements, newest first, at most limit.
func (s *Store) Settlements(ctx context.Context, limit int) ([]Settlement, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+settlementColumns+`
		FROM kit_settlements s LEFT JOIN kit_users u ON u.id = s.user_id ORDER BY s.created_at DESC, s.id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: settlements: %w", err)
	}
	defer rows.Close()
	var out []Settlement
	for rows.Next() {
		st, err := scanSettlement(rows)
		if err != nil {
			return nil, fmt.Errorf("store: settlements: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// DeleteSettlement removes a settlement whose payment never happened.
func (s *Store) DeleteSettlement(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_settlements WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete settlement: %w", err)
	}
	return nil
}

// SettlementMethod is a row of kit_settlement_methods: a way to settle
// with the kit that the admin publishes (to users and to peers that ask).
type SettlementMethod struct {
	ID          string
	Type        string
	Name        string
	Description string
	URI         string
	Logo        string
	Enabled     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const methodColumns = `id, type, name, description, uri, logo, enabled, created_at, updated_at`

func scanMethod(row interface{ Scan(...any) error }) (SettlementMethod, error) {
	var m SettlementMethod
	var created, updated int64
	if err := row.Scan(&m.ID, &m.Type, &m.Name, &m.Description, &m.URI, &m.Logo, &m.Enabled, &created, &updated); err != nil {
		return SettlementMethod{}, err
	}
	m.CreatedAt, m.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return m, nil
}

// CreateSettlementMethod stores a settlement method.
func (s *Store) CreateSettlementMethod(ctx context.Context, m SettlementMethod) (SettlementMethod, error) {
	now := s.millis()
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_settlement_methods (`+methodColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		m.ID, m.Type, m.Name, m.Description, m.URI, m.Logo, m.Enabled, now, now)
	if isUnique(err) {
		return SettlementMethod{}, fmt.Errorf("%w: settlement method %s", ErrConflict, m.ID)
	}
	if err != nil {
		return SettlementMethod{}, fmt.Errorf("store: create settlement method: %w", err)
	}
	return s.SettlementMethod(ctx, m.ID)
}

// SettlementMethod returns a settlement method, or ErrNotFound.
func (s *Store) SettlementMethod(ctx context.Context, id string) (SettlementMethod, error) {
	m, err := scanMethod(s.db.QueryRowContext(ctx, s.q(`SELECT `+methodColumns+` FROM kit_settlement_methods WHERE id = ?`), id))
	return m, notFound(err, "settlement method")
}

// SettlementMethods lists the settlement methods (only the enabled ones
// if enabledOnly), in the order they were made.
func (s *Store) SettlementMethods(ctx context.Context, enabledOnly bool) ([]SettlementMethod, error) {
	q := `SELECT ` + methodColumns + ` FROM kit_settlement_methods`
	if enabledOnly {
		q += ` WHERE enabled`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: settlement methods: %w", err)
	}
	defer rows.Close()
	var out []SettlementMethod
	for rows.Next() {
		m, err := scanMethod(rows)
		if err != nil {
			return nil, fmt.Errorf("store: settlement methods: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// UpdateSettlementMethod replaces a method's fields (not its id or
// creation time); ErrNotFound when there is none.
func (s *Store) UpdateSettlementMethod(ctx context.Context, m SettlementMethod) (SettlementMethod, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE kit_settlement_methods SET type = ?, name = ?, description = ?, uri = ?, logo = ?,
		enabled = ?, updated_at = ? WHERE id = ?`), m.Type, m.Name, m.Description, m.URI, m.Logo, m.Enabled, s.millis(), m.ID)
	if err != nil {
		return SettlementMethod{}, fmt.Errorf("store: update settlement method: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return SettlementMethod{}, fmt.Errorf("%w: settlement method %s", ErrNotFound, m.ID)
	}
	return s.SettlementMethod(ctx, m.ID)
}

// DeleteSettlementMethod removes a method; ErrNotFound when there is none.
// Settlements that named it keep its name.
func (s *Store) DeleteSettlementMethod(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_settlement_methods WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete settlement method: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: settlement method %s", ErrNotFound, id)
	}
	return nil
}
