package kit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
)

// Errors of withdrawals, settlements and settlement methods; each changes
// nothing.
var (
	ErrWithdrawalNotFound       = errors.New("kit: no such withdrawal")
	ErrWithdrawalFinal          = errors.New("kit: the withdrawal is completed or rejected already")
	ErrInvalidStatus            = errors.New("kit: invalid withdrawal status")
	ErrSettlementNotFound       = errors.New("kit: no such settlement")
	ErrInvalidSettlement        = errors.New("kit: invalid settlement")
	ErrSettlementMethodNotFound = errors.New("kit: no such settlement method")
	ErrInvalidSettlementMethod  = errors.New("kit: invalid settlement method")
)

// Counterparties of the payment rows that show withdrawals and settlements
// in a user's activity (history, stats and event stream).
const (
	CounterpartyWithdrawal = "withdrawal"
	counterpartySettlement = "settlement:" // + the method's name
)

// SettlementMethodTypes are the types of settlement method (those of 2.x).
var SettlementMethodTypes = []string{"paypal", "cash", "bitcoin", "ethereum", "ripple", "custom"}

// checkAmount refuses an amount of nothing or above what a row holds.
func checkAmount(amount uint64) error {
	if amount == 0 || amount > math.MaxInt64 {
		return fmt.Errorf("%w: an amount is 1 to 2^63-1 base units", ErrInvalidAmount)
	}
	return nil
}

// withdrawalGrace is how old a withdrawal without its transfer must be
// before a start forgets it: younger ones may be under way in another
// process.
const withdrawalGrace = time.Minute

// Withdraw takes amount base units out of a user's account at once (an
// unconditional transfer to the issuer, under an id derived from the
// withdrawal's, so that a retry pays once) and records a pending
// withdrawal, which the admin then processes. A user without the amount
// gets ErrInsufficientFunds and nothing is recorded.
func (k *Kit) Withdraw(ctx context.Context, user store.User, amount uint64) (store.Withdrawal, error) {
	if err := checkAmount(amount); err != nil {
		return store.Withdrawal{}, err
	}
	id := newID()
	w, err := k.st.CreateWithdrawal(ctx, store.Withdrawal{
		ID: id, UserID: user.ID, Amount: int64(amount), Status: store.WithdrawalPending,
		TransferID: idFrom("withdrawal " + id),
	})
	if err != nil {
		return store.Withdrawal{}, fmt.Errorf("kit: %w", err)
	}
	if err := k.pay(ctx, user.Username, IssuerAccount, amount, "withdrawal "+id); err != nil {
		// The ledger refused: the request never happened.
		if derr := k.st.DeleteWithdrawal(context.WithoutCancel(ctx), id); derr != nil {
			k.log.Error("forgetting a refused withdrawal", "withdrawal", id, "err", derr)
		}
		return store.Withdrawal{}, sendError(err)
	}
	if err := k.recordWithdrawal(ctx, w); err != nil {
		return store.Withdrawal{}, err
	}
	return w, nil
}

// recordWithdrawal writes the withdrawal's payment row (once).
func (k *Kit) recordWithdrawal(ctx context.Context, w store.Withdrawal) error {
	code, scale := k.Currency()
	_, _, err := k.st.InsertPayment(ctx, store.Payment{
		ID: "withdrawal:" + w.ID, UserID: w.UserID, Direction: "outgoing", TransferID: w.TransferID,
		Counterparty: CounterpartyWithdrawal, CounterpartyName: "Withdrawal",
		SourceAmount: w.Amount, DestinationAmount: w.Amount, DestinationCode: code, DestinationScale: scale,
		State: store.PaymentSuccess, CreatedAt: w.CreatedAt, CompletedAt: &w.CreatedAt,
	})
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	k.notify(w.UserID)
	return nil
}

// Withdrawals lists withdrawals, newest first: a user's (userID > 0) or
// everyone's (0).
func (k *Kit) Withdrawals(ctx context.Context, userID int64, limit int) ([]store.Withdrawal, error) {
	ws, err := k.st.Withdrawals(ctx, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	return ws, nil
}

// SetWithdrawalStatus moves a withdrawal to status (the admin's call):
// pending and processing may go anywhere, completed and rejected are
// final. Rejecting returns the amount to the user (an issuer transfer
// under an id derived from the withdrawal, so it is paid once however
// often the rejection is repeated). Setting the status it has already is
// no change (for rejected it completes a refund a stop interrupted).
func (k *Kit) SetWithdrawalStatus(ctx context.Context, id, status string) (store.Withdrawal, error) {
	switch status {
	case store.WithdrawalPending, store.WithdrawalProcessing, store.WithdrawalCompleted, store.WithdrawalRejected:
	default:
		return store.Withdrawal{}, fmt.Errorf("%w: %q is not pending, processing, completed or rejected", ErrInvalidStatus, status)
	}
	if len(id) > 64 {
		return store.Withdrawal{}, ErrWithdrawalNotFound
	}
	moved, err := k.st.SetWithdrawalStatus(ctx, id, status, store.WithdrawalPending, store.WithdrawalProcessing)
	if errors.Is(err, store.ErrNotFound) {
		return store.Withdrawal{}, ErrWithdrawalNotFound
	}
	if err != nil {
		return store.Withdrawal{}, fmt.Errorf("kit: %w", err)
	}
	w, err := k.st.Withdrawal(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Withdrawal{}, ErrWithdrawalNotFound
	}
	if err != nil {
		return store.Withdrawal{}, fmt.Errorf("kit: %w", err)
	}
	if !moved && w.Status != status {
		return store.Withdrawal{}, fmt.Errorf("%w: it is %s", ErrWithdrawalFinal, w.Status)
	}
	if status == store.WithdrawalRejected {
		if err := k.refund(ctx, w); err != nil {
			return store.Withdrawal{}, err
		}
	}
	k.notify(w.UserID)
	return w, nil
}

// refund returns a rejected withdrawal's amount to its user, once.
func (k *Kit) refund(ctx context.Context, w store.Withdrawal) error {
	u, err := k.st.UserByID(ctx, w.UserID)
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	key := "withdrawal refund " + w.ID
	if err := k.pay(ctx, IssuerAccount, u.Username, uint64(w.Amount), key); err != nil {
		// Rejected, but not refunded (the user's maximum balance, a
		// store error): rejecting again retries the same transfer.
		return sendError(err)
	}
	code, scale := k.Currency()
	now := k.clock.Now()
	_, _, err = k.st.InsertPayment(ctx, store.Payment{
		ID: "withdrawal-refund:" + w.ID, UserID: w.UserID, Direction: "incoming", TransferID: idFrom(key),
		Counterparty: CounterpartyWithdrawal, CounterpartyName: "Withdrawal rejected",
		SourceAmount: w.Amount, DestinationAmount: w.Amount, DestinationCode: code, DestinationScale: scale,
		State: store.PaymentSuccess, CompletedAt: &now,
	})
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	return nil
}

// reconcileWithdrawals finishes, on start, what a stop interrupted: a
// pending withdrawal whose transfer went through gets its activity row; one
// whose transfer never happened (older than withdrawalGrace) is forgotten;
// a rejected one gets its refund.
func (k *Kit) reconcileWithdrawals(ctx context.Context) error {
	ws, err := k.st.Withdrawals(ctx, 0, 1000)
	if err != nil {
		return err
	}
	for _, w := range ws {
		switch w.Status {
		case store.WithdrawalRejected:
			if _, err := k.st.Payment(ctx, "withdrawal-refund:"+w.ID); errors.Is(err, store.ErrNotFound) {
				if err := k.refund(ctx, w); err != nil {
					k.log.Error("refunding a rejected withdrawal", "withdrawal", w.ID, "err", err)
				}
			}
			continue
		case store.WithdrawalPending:
		default:
			continue
		}
		if _, err := k.st.Payment(ctx, "withdrawal:"+w.ID); err == nil {
			continue
		}
		view, err := k.view(ctx, w.Username)
		if err != nil {
			continue
		}
		_, ferr := view.Fulfillment(ctx, w.TransferID)
		switch {
		case errors.Is(ferr, ledger.ErrTransferNotConditional):
			if err := k.recordWithdrawal(ctx, w); err != nil {
				k.log.Error("recording a withdrawal", "withdrawal", w.ID, "err", err)
			}
		case errors.Is(ferr, ledger.ErrTransferNotFound) && k.clock.Now().Sub(w.CreatedAt) > withdrawalGrace:
			if err := k.st.DeleteWithdrawal(ctx, w.ID); err != nil {
				k.log.Error("forgetting a withdrawal never paid", "withdrawal", w.ID, "err", err)
			}
		}
	}
	return nil
}

// SettlementRequest records money that came into the kit outside the
// ledger.
type SettlementRequest struct {
	Amount   uint64
	Currency string // default: the kit's currency
	// Method names a configured settlement method by id or name, or is a
	// free text ("manual" when empty).
	Method string
	Note   string
}

func (k *Kit) settlement(ctx context.Context, req SettlementRequest) (store.Settlement, error) {
	if err := checkAmount(req.Amount); err != nil {
		return store.Settlement{}, err
	}
	code, _ := k.Currency()
	cur := strings.ToUpper(strings.TrimSpace(req.Currency))
	if cur == "" {
		cur = code
	}
	if len(cur) < 3 || len(cur) > 6 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return store.Settlement{}, fmt.Errorf("%w: currency %q", ErrInvalidSettlement, req.Currency)
	}
	if len(req.Note) > maxMessageLen {
		return store.Settlement{}, fmt.Errorf("%w: a note has at most %d bytes", ErrInvalidSettlement, maxMessageLen)
	}
	st := store.Settlement{ID: newID(), Amount: int64(req.Amount), Currency: cur, Note: req.Note}
	method := strings.TrimSpace(req.Method)
	switch {
	case method == "":
		st.Method = "manual"
	case len(method) > 100:
		return store.Settlement{}, fmt.Errorf("%w: a method name has at most 100 bytes", ErrInvalidSettlement)
	default:
		st.Method = method
		ms, err := k.st.SettlementMethods(ctx, false)
		if err != nil {
			return store.Settlement{}, fmt.Errorf("kit: %w", err)
		}
		for _, m := range ms {
			if m.ID == method || strings.EqualFold(m.Name, method) {
				st.Method, st.MethodID = m.Name, m.ID
				break
			}
		}
	}
	return st, nil
}

// SettleUser records that a user paid the kit outside the ledger (cash, a
// bank transfer): the issuer pays the user the amount, as for an invite,
// and the settlement shows in the user's activity.
func (k *Kit) SettleUser(ctx context.Context, username string, req SettlementRequest) (store.Settlement, error) {
	st, err := k.settlement(ctx, req)
	if err != nil {
		return store.Settlement{}, err
	}
	code, scale := k.Currency()
	if st.Currency != code {
		return store.Settlement{}, fmt.Errorf("%w: a user is credited in the kit's currency %s", ErrInvalidSettlement, code)
	}
	u, err := k.st.UserByName(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return store.Settlement{}, ErrUserNotFound
	}
	if err != nil {
		return store.Settlement{}, fmt.Errorf("kit: %w", err)
	}
	key := "settlement " + st.ID
	st.UserID, st.TransferID = &u.ID, idFrom(key)
	st, err = k.st.CreateSettlement(ctx, st)
	if err != nil {
		return store.Settlement{}, fmt.Errorf("kit: %w", err)
	}
	if err := k.pay(ctx, IssuerAccount, u.Username, req.Amount, key); err != nil {
		if derr := k.st.DeleteSettlement(context.WithoutCancel(ctx), st.ID); derr != nil {
			k.log.Error("forgetting a refused settlement", "settlement", st.ID, "err", derr)
		}
		return store.Settlement{}, sendError(err)
	}
	_, _, err = k.st.InsertPayment(ctx, store.Payment{
		ID: "settlement:" + st.ID, UserID: u.ID, Direction: "incoming", TransferID: st.TransferID,
		Counterparty: counterpartySettlement + st.Method, CounterpartyName: "Settlement (" + st.Method + ")",
		SourceAmount: st.Amount, DestinationAmount: st.Amount, DestinationCode: code, DestinationScale: scale,
		Message: clip(st.Note, maxMessageLen), State: store.PaymentSuccess, CreatedAt: st.CreatedAt, CompletedAt: &st.CreatedAt,
	})
	if err != nil {
		return store.Settlement{}, fmt.Errorf("kit: %w", err)
	}
	k.notify(u.ID)
	return st, nil
}

// SettlePeer records that a peer settled its trustline outside the ledger.
// It changes no balance: the trustline balance is state the two kits share
// (each side's is the negative of the other's), which one side alone must
// not rewrite; the record tells the admin, who then raises the peer's
// limit or waits for the peer to pay back over the trustline.
func (k *Kit) SettlePeer(ctx context.Context, peerID string, req SettlementRequest) (store.Settlement, error) {
	st, err := k.settlement(ctx, req)
	if err != nil {
		return store.Settlement{}, err
	}
	if len(peerID) > 64 {
		return store.Settlement{}, ErrPeerNotFound
	}
	p, err := k.st.Peer(ctx, peerID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Settlement{}, ErrPeerNotFound
	}
	if err != nil {
		return store.Settlement{}, fmt.Errorf("kit: %w", err)
	}
	if req.Currency == "" {
		st.Currency = p.CurrencyCode
	}
	st.PeerID, st.PeerHost = p.ID, p.Hostname
	st, err = k.st.CreateSettlement(ctx, st)
	if err != nil {
		return store.Settlement{}, fmt.Errorf("kit: %w", err)
	}
	return st, nil
}

// Settlement returns a settlement.
func (k *Kit) Settlement(ctx context.Context, id string) (store.Settlement, error) {
	if len(id) > 64 {
		return store.Settlement{}, ErrSettlementNotFound
	}
	st, err := k.st.Settlement(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Settlement{}, ErrSettlementNotFound
	}
	if err != nil {
		return store.Settlement{}, fmt.Errorf("kit: %w", err)
	}
	return st, nil
}

// Settlements lists the settlements, newest first.
func (k *Kit) Settlements(ctx context.Context, limit int) ([]store.Settlement, error) {
	ss, err := k.st.Settlements(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	return ss, nil
}

// SettlementMethodInput is a settlement method as the admin gives it; nil
// fields keep their value in an update (and take the defaults in a new
// one: enabled, no description, no URI).
type SettlementMethodInput struct {
	Type        *string
	Name        *string
	Description *string
	URI         *string
	Logo        *string
	Enabled     *bool
}

func (in SettlementMethodInput) apply(m *store.SettlementMethod) error {
	set := func(dst *string, src *string, max int, what string) error {
		if src == nil {
			return nil
		}
		v := strings.TrimSpace(*src)
		if len(v) > max {
			return fmt.Errorf("%w: the %s has at most %d bytes", ErrInvalidSettlementMethod, what, max)
		}
		*dst = v
		return nil
	}
	if in.Type != nil {
		t := strings.ToLower(strings.TrimSpace(*in.Type))
		ok := false
		for _, v := range SettlementMethodTypes {
			ok = ok || v == t
		}
		if !ok {
			return fmt.Errorf("%w: the type is one of %s", ErrInvalidSettlementMethod, strings.Join(SettlementMethodTypes, ", "))
		}
		m.Type = t
	}
	for _, f := range []error{
		set(&m.Name, in.Name, 100, "name"),
		set(&m.Description, in.Description, 1000, "description"),
		set(&m.URI, in.URI, 1024, "uri"),
		set(&m.Logo, in.Logo, 1024, "logo"),
	} {
		if f != nil {
			return f
		}
	}
	for _, u := range []string{m.URI, m.Logo} {
		if u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return fmt.Errorf("%w: a uri or logo is an http(s) URL", ErrInvalidSettlementMethod)
		}
	}
	if in.Enabled != nil {
		m.Enabled = *in.Enabled
	}
	if m.Type == "" {
		return fmt.Errorf("%w: the type is required", ErrInvalidSettlementMethod)
	}
	if m.Name == "" {
		m.Name = strings.ToUpper(m.Type[:1]) + m.Type[1:]
	}
	return nil
}

// CreateSettlementMethod adds a settlement method and tells the connector.
func (k *Kit) CreateSettlementMethod(ctx context.Context, in SettlementMethodInput) (store.SettlementMethod, error) {
	m := store.SettlementMethod{ID: newID(), Enabled: true}
	if err := in.apply(&m); err != nil {
		return store.SettlementMethod{}, err
	}
	m, err := k.st.CreateSettlementMethod(ctx, m)
	if err != nil {
		return store.SettlementMethod{}, fmt.Errorf("kit: %w", err)
	}
	k.settlementMethodsChanged(ctx)
	return m, nil
}

// UpdateSettlementMethod changes a settlement method and tells the
// connector.
func (k *Kit) UpdateSettlementMethod(ctx context.Context, id string, in SettlementMethodInput) (store.SettlementMethod, error) {
	if len(id) > 64 {
		return store.SettlementMethod{}, ErrSettlementMethodNotFound
	}
	m, err := k.st.SettlementMethod(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.SettlementMethod{}, ErrSettlementMethodNotFound
	}
	if err != nil {
		return store.SettlementMethod{}, fmt.Errorf("kit: %w", err)
	}
	if err := in.apply(&m); err != nil {
		return store.SettlementMethod{}, err
	}
	m, err = k.st.UpdateSettlementMethod(ctx, m)
	if errors.Is(err, store.ErrNotFound) {
		return store.SettlementMethod{}, ErrSettlementMethodNotFound
	}
	if err != nil {
		return store.SettlementMethod{}, fmt.Errorf("kit: %w", err)
	}
	k.settlementMethodsChanged(ctx)
	return m, nil
}

// DeleteSettlementMethod removes a settlement method and tells the
// connector.
func (k *Kit) DeleteSettlementMethod(ctx context.Context, id string) error {
	if len(id) > 64 {
		return ErrSettlementMethodNotFound
	}
	err := k.st.DeleteSettlementMethod(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrSettlementMethodNotFound
	}
	if err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	k.settlementMethodsChanged(ctx)
	return nil
}

// SettlementMethods lists the settlement methods (the enabled ones only
// if enabledOnly).
func (k *Kit) SettlementMethods(ctx context.Context, enabledOnly bool) ([]store.SettlementMethod, error) {
	ms, err := k.st.SettlementMethods(ctx, enabledOnly)
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	return ms, nil
}

// peerSettlementMethod is a settlement method as a peer's
// settlement_methods_request is answered (the 2.x fields).
type peerSettlementMethod struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	URI         string `json:"uri"`
	Logo        string `json:"logo"`
}

// settlementMethodsChanged gives this process's connector the methods an
// admin's change left, and tells the other processes to do the same.
func (k *Kit) settlementMethodsChanged(ctx context.Context) {
	k.publishSettlementMethods(ctx)
	k.publish(topicMethods, nil)
}

// publishSettlementMethods gives the connector the enabled settlement
// methods, which it answers to peers that ask. Called on start and after
// every change made through this process.
func (k *Kit) publishSettlementMethods(ctx context.Context) {
	if err := k.loadSettlementMethods(ctx); err != nil {
		k.log.Error("publishing settlement methods", "err", err)
	}
}

func (k *Kit) loadSettlementMethods(ctx context.Context) error {
	ms, err := k.st.SettlementMethods(ctx, true)
	if err != nil {
		return err
	}
	out := make([]peerSettlementMethod, 0, len(ms))
	for _, m := range ms {
		out = append(out, peerSettlementMethod{ID: m.ID, Name: m.Name, Type: m.Type, Description: m.Description, URI: m.URI, Logo: m.Logo})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return k.conn.SetSettlementMethods(b)
}

// PeerSettlementMethods asks a peer for its settlement methods (a
// settlement_methods_request over the trustline, as 2.x's
// GET /peers/:id/settlement_methods did) and returns the JSON array it
// answers.
func (k *Kit) PeerSettlementMethods(ctx context.Context, peerID string) (json.RawMessage, error) {
	k.peers.mu.Lock()
	plugin := k.peers.by[peerID]
	k.peers.mu.Unlock()
	if plugin == nil {
		return nil, ErrPeerNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := plugin.SendRequest(ctx, ledger.Message{
		Ledger: plugin.Prefix(), From: plugin.Account(), To: plugin.PeerAccount(),
		Custom: json.RawMessage(`{"method":"settlement_methods_request"}`),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPeerUnreachable, err)
	}
	var m struct {
		Method  string          `json:"method"`
		Methods json.RawMessage `json:"settlement_methods"`
	}
	var list []json.RawMessage
	if err := json.Unmarshal(resp.Custom, &m); err != nil || m.Method != "settlement_methods_response" ||
		json.Unmarshal(m.Methods, &list) != nil || list == nil {
		return nil, fmt.Errorf("%w: the peer answered no list of settlement methods", ErrPeerUnreachable)
	}
	return m.Methods, nil
}
