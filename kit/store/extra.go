package store

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
)

// TakeSetting deletes a setting and returns the value it had, atomically:
// of two callers taking the same name at once, one gets the value and the
// other ErrNotFound. The kit uses it for one-time codes.
func (s *Store) TakeSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q(`DELETE FROM kit_settings WHERE name = ? RETURNING value`), name).Scan(&v)
	if errors.Is(err, stdsql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: take setting: %w", err)
	}
	return v, nil
}
