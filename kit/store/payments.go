package store

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"
)

// Payment states.
const (
	PaymentPending = "pending"
	PaymentSuccess = "success"
	PaymentFailed  = "failed"
)

// Payment is a row of kit_payments: one user's side of one payment. A
// payment between two users of the kit has two rows, one per direction.
type Payment struct {
	ID                string // outgoing: the client's payment id; incoming: derived from the transfer
	UserID            int64
	Direction         string // "outgoing" or "incoming"
	TransferID        string // the transfer on the kit's ledger
	Counterparty      string // user@host, a local user name, or an ILP address
	CounterpartyName  string
	CounterpartyImage string
	SourceAmount      int64 // kit base units: debited (outgoing) or credited (incoming)
	DestinationAmount int64 // the receiver's base units
	DestinationCode   string
	DestinationScale  int
	Message           string
	State             string
	Error             string
	RequestHash       string // outgoing: what the request was, to tell a retry from a conflict
	CreatedAt         time.Time
	CompletedAt       *time.Time
}

const paymentColumns = `id, user_id, direction, transfer_id, counterparty, counterparty_name, counterparty_image,
	source_amount, destination_amount, destination_code, destination_scale, message, state, error, request_hash, created_at, completed_at`

func scanPayment(row interface{ Scan(...any) error }) (Payment, error) {
	var p Payment
	var created int64
	var completed stdsql.NullInt64
	err := row.Scan(&p.ID, &p.UserID, &p.Direction, &p.TransferID, &p.Counterparty, &p.CounterpartyName, &p.CounterpartyImage,
		&p.SourceAmount, &p.DestinationAmount, &p.DestinationCode, &p.DestinationScale, &p.Message, &p.State, &p.Error,
		&p.RequestHash, &created, &completed)
	if err != nil {
		return Payment{}, err
	}
	p.CreatedAt = time.UnixMilli(created).UTC()
	if completed.Valid {
		t := time.UnixMilli(completed.Int64).UTC()
		p.CompletedAt = &t
	}
	return p, nil
}

// InsertPayment stores p unless a payment with its id (or its direction
// and transfer) exists, and returns the stored row and whether this call
// inserted it. CreatedAt defaults to now.
func (s *Store) InsertPayment(ctx context.Context, p Payment) (Payment, bool, error) {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now()
	}
	var completed any
	if p.CompletedAt != nil {
		completed = p.CompletedAt.UnixMilli()
	}
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_payments (`+paymentColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		p.ID, p.UserID, p.Direction, p.TransferID, p.Counterparty, p.CounterpartyName, p.CounterpartyImage,
		p.SourceAmount, p.DestinationAmount, p.DestinationCode, p.DestinationScale, p.Message, p.State, p.Error,
		p.RequestHash, p.CreatedAt.UnixMilli(), completed)
	if err != nil {
		return Payment{}, false, fmt.Errorf("store: insert payment: %w", err)
	}
	n, _ := res.RowsAffected()
	got, err := s.Payment(ctx, p.ID)
	if errors.Is(err, ErrNotFound) {
		// The transfer is recorded under another id.
		got, err = s.PaymentByTransfer(ctx, p.Direction, p.TransferID)
	}
	if err != nil {
		return Payment{}, false, err
	}
	return got, n == 1, nil
}

// Payment returns the payment with id, or ErrNotFound.
func (s *Store) Payment(ctx context.Context, id string) (Payment, error) {
	p, err := scanPayment(s.db.QueryRowContext(ctx, s.q(`SELECT `+paymentColumns+` FROM kit_payments WHERE id = ?`), id))
	return p, notFound(err, "payment")
}

// PaymentByTransfer returns the payment of a transfer, or ErrNotFound.
func (s *Store) PaymentByTransfer(ctx context.Context, direction, transferID string) (Payment, error) {
	p, err := scanPayment(s.db.QueryRowContext(ctx, s.q(`SELECT `+paymentColumns+` FROM kit_payments WHERE direction = ? AND transfer_id = ?`), direction, transferID))
	return p, notFound(err, "payment")
}

// FinishPayment moves a pending payment to success or failed and reports
// whether it did (false: it had finished already).
func (s *Store) FinishPayment(ctx context.Context, id, state, errText string) (bool, error) {
	if state != PaymentSuccess && state != PaymentFailed {
		return false, fmt.Errorf("store: finish payment: state %q", state)
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE kit_payments SET state = ?, error = ?, completed_at = ? WHERE id = ? AND state = 'pending'`),
		state, errText, s.millis(), id)
	if err != nil {
		return false, fmt.Errorf("store: finish payment: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Cursor is a position in a user's history (keyset pagination): the
// payments older than it come next. The zero Cursor is the newest end.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Payments lists a user's payments, newest first, after cursor.
func (s *Store) Payments(ctx context.Context, userID int64, after Cursor, limit int) ([]Payment, error) {
	var rows *stdsql.Rows
	var err error
	if after.ID == "" {
		rows, err = s.db.QueryContext(ctx, s.q(`SELECT `+paymentColumns+` FROM kit_payments WHERE user_id = ?
			ORDER BY created_at DESC, id DESC LIMIT ?`), userID, limit)
	} else {
		at := after.CreatedAt.UnixMilli()
		// A row-value comparison, which both databases answer with a
		// range scan of kit_payments_user (an OR of two conditions made
		// SQLite scan the user's whole history).
		rows, err = s.db.QueryContext(ctx, s.q(`SELECT `+paymentColumns+` FROM kit_payments WHERE user_id = ?
			AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?`), userID, at, after.ID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("store: payments: %w", err)
	}
	return collectPayments(rows)
}

func collectPayments(rows *stdsql.Rows) ([]Payment, error) {
	defer rows.Close()
	var out []Payment
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: payments: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: payments: %w", err)
	}
	return out, nil
}

// PendingPayments lists every pending payment (to reconcile after a
// restart).
func (s *Store) PendingPayments(ctx context.Context) ([]Payment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+paymentColumns+` FROM kit_payments WHERE state = 'pending' ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("store: pending payments: %w", err)
	}
	return collectPayments(rows)
}

// Stat sums a user's successful payments with one counterparty.
type Stat struct {
	Counterparty     string
	Name             string
	SentCount        int64
	Sent             int64 // source amounts of outgoing payments
	ReceivedCount    int64
	Received         int64 // amounts credited by incoming payments
	LastPaymentAtUTC time.Time
}

// Stats sums a user's successful payments per counterparty, the most
// recent counterparty first.
func (s *Store) Stats(ctx context.Context, userID int64) ([]Stat, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT counterparty, MAX(counterparty_name),
		SUM(CASE WHEN direction = 'outgoing' THEN 1 ELSE 0 END),
		SUM(CASE WHEN direction = 'outgoing' THEN source_amount ELSE 0 END),
		SUM(CASE WHEN direction = 'incoming' THEN 1 ELSE 0 END),
		SUM(CASE WHEN direction = 'incoming' THEN source_amount ELSE 0 END),
		MAX(created_at)
		FROM kit_payments WHERE user_id = ? AND state = 'success'
		GROUP BY counterparty ORDER BY MAX(created_at) DESC`), userID)
	if err != nil {
		return nil, fmt.Errorf("store: stats: %w", err)
	}
	defer rows.Close()
	var out []Stat
	for rows.Next() {
		var st Stat
		var last int64
		if err := rows.Scan(&st.Counterparty, &st.Name, &st.SentCount, &st.Sent, &st.ReceivedCount, &st.Received, &last); err != nil {
			return nil, fmt.Errorf("store: stats: %w", err)
		}
		st.LastPaymentAtUTC = time.UnixMilli(last).UTC()
		out = append(out, st)
	}
	return out, rows.Err()
}

// StoredQuote is a quote or liquidity curve the kit gave a user, which a
// payment names; Body is the kit's JSON of it.
type StoredQuote struct {
	ID        string
	UserID    int64
	Body      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// InsertQuote stores a quote.
func (s *Store) InsertQuote(ctx context.Context, q StoredQuote) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO kit_quotes (id, user_id, body, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
		q.ID, q.UserID, string(q.Body), s.millis(), q.ExpiresAt.UnixMilli())
	if isUnique(err) {
		return fmt.Errorf("%w: quote", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: insert quote: %w", err)
	}
	return nil
}

// Quote returns a user's quote (expired or not), or ErrNotFound.
func (s *Store) Quote(ctx context.Context, userID int64, id string) (StoredQuote, error) {
	q := StoredQuote{ID: id, UserID: userID}
	var body string
	var created, expires int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT body, created_at, expires_at FROM kit_quotes WHERE id = ? AND user_id = ?`), id, userID).
		Scan(&body, &created, &expires)
	if err := notFound(err, "quote"); err != nil {
		return StoredQuote{}, err
	}
	q.Body, q.CreatedAt, q.ExpiresAt = []byte(body), time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	return q, nil
}

// PruneQuotes deletes the quotes that expired before the given time.
func (s *Store) PruneQuotes(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM kit_quotes WHERE expires_at < ?`), before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: prune quotes: %w", err)
	}
	return res.RowsAffected()
}
