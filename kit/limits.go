package kit

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ilpkit/ilpkit/kit/store"
	"github.com/ilpkit/ilpkit/ledger"
	"github.com/ilpkit/ilpkit/plugin/trustline"
)

// Settings keys of the default limits ("" or absent: the built-in
// default, minimum 0 and maximum unlimited).
const (
	settingDefaultMin = "default_min_balance"
	settingDefaultMax = "default_max_balance"
)

// DefaultLimits are the limits of every user without limits of its own;
// nil is the built-in default (minimum 0, maximum unlimited).
type DefaultLimits struct {
	Min, Max *int64
}

func (k *Kit) defaultLimits() trustline.Limits {
	k.limitsMu.RLock()
	defer k.limitsMu.RUnlock()
	l := trustline.UserLimits()
	if k.defaults.Min != nil {
		l.Minimum = ledger.Limit(ledger.Int128FromInt64(*k.defaults.Min))
	}
	if k.defaults.Max != nil {
		l.Maximum = ledger.Limit(ledger.Int128FromInt64(*k.defaults.Max))
	}
	return l
}

// Defaults returns the default limits.
func (k *Kit) Defaults() DefaultLimits {
	k.limitsMu.RLock()
	defer k.limitsMu.RUnlock()
	return k.defaults
}

// loadDefaults reads the default limits at start.
func (k *Kit) loadDefaults(ctx context.Context) error {
	var d DefaultLimits
	for _, x := range []struct {
		key string
		dst **int64
	}{{settingDefaultMin, &d.Min}, {settingDefaultMax, &d.Max}} {
		v, err := k.st.Setting(ctx, x.key)
		if errors.Is(err, store.ErrNotFound) || (err == nil && v == "") {
			continue
		}
		if err != nil {
			return fmt.Errorf("kit: %w", err)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("kit: setting %s: %w", x.key, err)
		}
		*x.dst = &n
	}
	k.limitsMu.Lock()
	k.defaults = d
	k.limitsMu.Unlock()
	return nil
}

// SetDefaultLimits sets the limits of every user without limits of its
// own, now and for the users to come.
func (k *Kit) SetDefaultLimits(ctx context.Context, d DefaultLimits) error {
	if d.Min != nil && d.Max != nil && *d.Min > *d.Max {
		return fmt.Errorf("%w: the minimum %d is above the maximum %d", ErrInvalidLimits, *d.Min, *d.Max)
	}
	str := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	if err := k.st.PutSetting(ctx, settingDefaultMin, str(d.Min)); err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	if err := k.st.PutSetting(ctx, settingDefaultMax, str(d.Max)); err != nil {
		return fmt.Errorf("kit: %w", err)
	}
	k.limitsMu.Lock()
	k.defaults = d
	k.limitsMu.Unlock()
	k.publish(topicLimits, nil)
	return k.eachUser(ctx, func(u store.User) error {
		if u.MinBalance != nil && u.MaxBalance != nil {
			return nil
		}
		if err := k.server.SetLimits(ctx, u.Username, *k.limitsOf(u)); err != nil {
			return fmt.Errorf("kit: limits of %s: %w", u.Username, err)
		}
		return nil
	})
}
