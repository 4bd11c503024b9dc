package psk

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ilpkit/ilpkit/ilp"
)

// Incoming holds the fields of an incoming prepared transfer that a PSK
// receiver looks at, as the Ledger Plugin Interface carries them.
type Incoming struct {
	Amount             uint64    // in the receiving ledger's base units
	ExecutionCondition string    // unpadded base64url, compared as text as 2017 did
	ExpiresAt          time.Time // zero when the transfer has no expiry
	ILP                string    // the ILP packet, unpadded base64url
}

// Receiver checks incoming PSK payments for one receiving account, the way
// ilp@11.2's PSK.listen did, and computes their fulfillments. A Receiver
// holds no state; the zero Now means time.Now.
type Receiver struct {
	// Account is the ILP address of the receiving account (the plugin's
	// getAccount()); PSK addresses are Account + "." + receiver id + token.
	Account string
	// Secret is the receiver secret. ILP Kit 3 derived one per user:
	// HMAC-SHA256(API_SECRET, ledger prefix + username), with the key
	// "secret" when API_SECRET was unset.
	Secret []byte
	// AllowOverPayment accepts transfers larger than the packet's amount.
	// ilp@11 documented true as the default but its code treated a missing
	// option as false, and ILP Kit did not set it: the zero value here
	// refuses overpayment, as deployed kits did.
	AllowOverPayment bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Cache, when set to a KeyCache of Secret, keeps the keys derived for
	// the receiver and for recent addresses (see KeyCache); nil derives
	// every key for every payment.
	Cache *KeyCache
}

// Accepted is a PSK payment that passed every check.
type Accepted struct {
	Fulfillment        ilp.Fulfillment
	DestinationAccount string // from the packet
	DestinationAmount  uint64 // from the packet
	Details            Details
}

// ErrNotMine is returned for a transfer whose packet is addressed to another
// account or another receiver: 2017 left such a transfer alone (neither
// fulfilled nor rejected) for whoever else listened on the ledger.
var ErrNotMine = errors.New("psk: payment addressed to another receiver")

// Rejection is the ILP error with which a receiver rejects a transfer. Code,
// Name and Message go to the sender (Message is the fixed 2017 text, never
// internal detail); Err, when set, says what exactly was wrong, for logs.
type Rejection struct {
	Code       string // RFC 0003 code, such as ilp.CodeWrongCondition
	Name       string // its RFC 0003 name
	Message    string // the message ilp@11.2 sent
	LegacyCode string // the code ilp@11.2 sent instead of Code
	Err        error
}

func (r *Rejection) Error() string {
	s := "psk: rejected " + r.Code + " " + r.Name + ": " + r.Message
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

func (r *Rejection) Unwrap() error { return r.Err }

func reject(code, legacy, message string, err error) *Rejection {
	return &Rejection{Code: code, Name: ilp.CodeName(code), Message: message, LegacyCode: legacy, Err: err}
}

// RejectedByReceiver is the rejection for a payment that passed the PSK
// checks but that the application refused (in 2017, the review callback
// threw): F00, "rejected-by-receiver: " and the reason.
func RejectedByReceiver(reason string) *Rejection {
	if reason == "" {
		reason = "reason not specified"
	}
	return reject(ilp.CodeBadRequest, "S00", "rejected-by-receiver: "+reason, nil)
}

// Receive checks one incoming transfer. It returns the accepted payment,
// ErrNotMine, a *Rejection, or, when the Receiver itself is not usable (no
// account or secret), another error.
//
// The checks, in ilp@11.2's order:
//
//  1. an execution condition is present (else F00, 2017: S00);
//  2. a packet is attached (F01, S01), in base64url that decodes to an
//     IlpPayment (F01, S01);
//  3. the packet's account is Account, a '.', then a segment starting with
//     this receiver's id (else ErrNotMine);
//  4. the details parse and decrypt, with the shared secret of the token
//     that follows the receiver id (F06, S06, with ilp@11's message for each
//     case);
//  5. the transfer amount is at least the packet amount (F04, S04) and, unless
//     AllowOverPayment, at most it (F03, S03);
//  6. the Expires-At header, if any, has not passed (R00, 2017: R01);
//  7. the execution condition is the one the packet gives (F05, S05).
//
// Where this differs from 2017: a packet that is not base64url is rejected
// with F01 (2017 threw and left the transfer to expire); the packet's
// account must continue Account with a '.' (2017 skipped whatever character
// followed); every Expires-At value counts when the header repeats (2017
// ignored a repeated one, and as in 2017 an unreadable one is ignored); and
// a transfer whose own expiry has passed is rejected with R00 after step 6
// (2017 did not look, and the ledger would refuse the fulfillment anyway).
func (r *Receiver) Receive(in Incoming) (Accepted, error) {
	if r.Account == "" || len(r.Secret) == 0 {
		return Accepted{}, errors.New("psk: receiver needs an account and a secret")
	}
	if in.ExecutionCondition == "" {
		return Accepted{}, reject(ilp.CodeBadRequest, "S00", "got notification of transfer without executionCondition", nil)
	}
	if in.ILP == "" {
		return Accepted{}, reject(ilp.CodeInvalidPacket, "S01", "got notification of transfer with no packet attached", nil)
	}
	const invalidPacket = "got notification of transfer with invalid ILP packet"
	if !base64URLText(in.ILP) {
		return Accepted{}, reject(ilp.CodeInvalidPacket, "S01", invalidPacket, errors.New("packet is not base64url text"))
	}
	raw := ilp.DecodeBase64Node(in.ILP)
	var pkt ilp.Payment
	if err := pkt.UnmarshalBinary(raw); err != nil {
		return Accepted{}, reject(ilp.CodeInvalidPacket, "S01", invalidPacket, err)
	}

	rest, ok := strings.CutPrefix(pkt.Account, r.Account+".")
	if !ok {
		return Accepted{}, ErrNotMine
	}
	cache := r.Cache
	if !cache.serves(r.Secret) {
		cache = nil
	}
	var rid string
	if cache != nil {
		rid = cache.rid
	} else {
		rid = ilp.EncodeBase64URL(ReceiverID(r.Secret))
	}
	if segment, _, _ := strings.Cut(rest, "."); !strings.HasPrefix(segment, rid) {
		return Accepted{}, ErrNotMine
	}
	// As in 2017 the token is everything after the receiver id, further
	// segments included, read leniently.
	var keys *Keys
	var err error
	if cache != nil {
		keys, err = cache.keysOf(rest[len(rid):])
	} else {
		keys, err = NewKeys(SharedSecret(r.Secret, ilp.DecodeBase64Node(rest[len(rid):])))
	}
	if err != nil {
		return Accepted{}, err
	}

	details, err := parseDetails(pkt.Data, nil, keys)
	if err != nil {
		return Accepted{}, reject(ilp.CodeUnexpectedPayment, "S06", detailsMessage(err), err)
	}

	if in.Amount < pkt.Amount {
		return Accepted{}, reject(ilp.CodeInsufficientDestinationAmount, "S04",
			"got notification of transfer where amount is less than expected",
			fmt.Errorf("transfer amount %d, packet amount %d", in.Amount, pkt.Amount))
	}
	if !r.AllowOverPayment && in.Amount > pkt.Amount {
		return Accepted{}, reject(ilp.CodeInvalidAmount, "S03",
			"got notification of transfer where amount is more than expected",
			fmt.Errorf("transfer amount %d, packet amount %d", in.Amount, pkt.Amount))
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	t := now()
	if err := checkExpiresAt(details.Headers.Values("expires-at"), t); err != nil {
		return Accepted{}, reject(ilp.CodeTransferTimedOut, "R01", "got notification of transfer with expired packet", err)
	}
	if !in.ExpiresAt.IsZero() && t.After(in.ExpiresAt) {
		return Accepted{}, reject(ilp.CodeTransferTimedOut, "R01", "transfer has already expired",
			fmt.Errorf("transfer expired at %s", in.ExpiresAt.UTC().Format(isoMillis)))
	}

	f := keys.Fulfillment(raw)
	if want := ilp.ConditionOf(f).String(); in.ExecutionCondition != want {
		return Accepted{}, reject(ilp.CodeWrongCondition, "S05",
			"receiver generated a different condition from the transfer",
			fmt.Errorf("transfer condition %q, packet gives %q", in.ExecutionCondition, want))
	}
	return Accepted{
		Fulfillment:        f,
		DestinationAccount: pkt.Account,
		DestinationAmount:  pkt.Amount,
		Details:            details,
	}, nil
}

// detailsMessage is ilp@11's rejection message for a details error.
func detailsMessage(err error) string {
	switch {
	case errors.Is(err, ErrUnsupportedStatus):
		return "unsupported PSK version or status"
	case errors.Is(err, ErrMissingNonce):
		return "missing PSK nonce"
	case errors.Is(err, ErrUnsupportedKey):
		return "unsupported PSK key derivation"
	case errors.Is(err, ErrUnsupportedEncryption):
		return "unsupported PSK encryption method"
	}
	return "unspecified PSK error"
}

// checkExpiresAt applies the Expires-At header: the payment has expired
// when a value has passed. 2017 compared with moment, to which an unreadable
// value never expired, as here. A repeated header reached moment as an array
// of numeric date parts (the year, then the month...), which for timestamps
// overflowed and never expired either; here each value counts.
func checkExpiresAt(values []string, now time.Time) error {
	for _, v := range values {
		if exp, ok := parseISOTime(v); ok && now.After(exp) {
			return fmt.Errorf("packet expired at %s", v)
		}
	}
	return nil
}

// parseISOTime reads the ISO 8601 forms a 2017 sender wrote: RFC 3339 with
// or without fractional seconds, or the same without a zone (taken as UTC;
// moment used the receiving host's zone), or a bare date.
func parseISOTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// base64URLText is ilp@11's test of transfer.ilp: ^[0-9A-Za-z-_]+$.
func base64URLText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}
