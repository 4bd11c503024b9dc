package sql

import (
	"fmt"
	"math/big"

	"github.com/ilpkit/ilpkit/ledger"
)

// transition is one transfer log operation, decided the same way for both
// dialects: the engine reads the stored record (locking it), asks decide what
// to do, and when decide says write, stores the new record and applies the
// changes in the same transaction.
type transition struct {
	key string
	// create says the record is expected to be new: the engine may try to
	// insert it first and read only when that finds a row.
	create bool
	// decide is given the stored record (found false when there is none). It
	// returns the record after the operation and whether it must be written;
	// an error refuses the operation and nothing is written.
	decide  func(stored ledger.Record, found bool) (ledger.Record, bool, error)
	changes []ledger.Change
}

func createTransition(rec ledger.Record, changes []ledger.Change) transition {
	return transition{
		key:     ledger.TransferKey(rec.Transfer.ID),
		create:  true,
		changes: changes,
		decide: func(stored ledger.Record, found bool) (ledger.Record, bool, error) {
			return ledger.DecideCreate(stored, found, rec)
		},
	}
}

func fulfillTransition(id, fulfillment string, changes []ledger.Change) transition {
	return transition{
		key:     ledger.TransferKey(id),
		changes: changes,
		decide: func(stored ledger.Record, found bool) (ledger.Record, bool, error) {
			return ledger.DecideFulfill(stored, found, id, fulfillment)
		},
	}
}

func cancelTransition(id string, changes []ledger.Change) transition {
	return transition{
		key:     ledger.TransferKey(id),
		changes: changes,
		decide: func(stored ledger.Record, found bool) (ledger.Record, bool, error) {
			return ledger.DecideCancel(stored, found, id)
		},
	}
}

// decodeRecord reads a stored transfer row.
func decodeRecord(t *table, key, value string, valid bool) (ledger.Record, error) {
	if !valid {
		return ledger.Record{}, fmt.Errorf("%w: %s %q is NULL", ErrCorrupt, t.ident, key)
	}
	r, err := ledger.UnmarshalRecord([]byte(value))
	if err != nil {
		return ledger.Record{}, fmt.Errorf("%w: %s %q: %w", ErrCorrupt, t.ident, key, err)
	}
	return r, nil
}

// parseBalance reads a stored balance.
func parseBalance(t *table, key, value string, valid bool) (ledger.Int128, error) {
	if !valid {
		return ledger.Int128{}, fmt.Errorf("%w: %s %q is NULL", ErrCorrupt, t.ident, key)
	}
	v, err := ledger.ParseInt128(value)
	if err != nil {
		return ledger.Int128{}, fmt.Errorf("%w: %s %q: %w", ErrCorrupt, t.ident, key, err)
	}
	return v, nil
}

// Int128 extremes, passed as the bound of an unlimited change so that the
// database enforces the range a balance can hold.
var maxInt128, minInt128 = int128Extremes()

func int128Extremes() (hi, lo ledger.Int128) {
	one := big.NewInt(1)
	hi, err := ledger.Int128FromBig(new(big.Int).Sub(new(big.Int).Lsh(one, 127), one))
	if err == nil {
		lo, err = ledger.Int128FromBig(new(big.Int).Neg(new(big.Int).Lsh(one, 127)))
	}
	if err != nil {
		panic(err)
	}
	return hi, lo
}

// bound returns the limit a change must respect in the database: the limit
// in its direction, or the Int128 extreme when it has none (or when it moves
// nothing: ledger.Change.Apply lets a zero change through whatever the
// limit).
func bound(c ledger.Change) ledger.Int128 {
	if c.Sub {
		if v, ok := c.Minimum.Value(); ok && c.Amount > 0 {
			return v
		}
		return minInt128
	}
	if v, ok := c.Maximum.Value(); ok && c.Amount > 0 {
		return v
	}
	return maxInt128
}
