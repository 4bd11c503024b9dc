package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/ilpkit/ilpkit/curve"
)

// MethodBroadcastRoutes is the custom method of the request message that
// carries a RoutingUpdate as its custom data.
const MethodBroadcastRoutes = "broadcast_routes"

// PeerPrefix starts the addresses of peering ledgers (ilp-plugin-virtual);
// routes to them are never broadcast nor accepted.
const PeerPrefix = "peer."

// ErrInvalidUpdate is wrapped by every error of the decoder and of Validate:
// the message breaks the RoutingUpdate or Routes schema of 2017, or holds
// something this package cannot represent.
var ErrInvalidUpdate = errors.New("invalid routing update")

// errBeyond marks a value the 2017 schema allowed but that is beyond what
// this package holds (a number JavaScript read as Infinity, a hold-down
// beyond 2^63 ms). It always comes with ErrInvalidUpdate.
var errBeyond = errors.New("beyond the supported range")

// RoutingUpdate is the custom data of a broadcast_routes request
// (ilp-connector's RoutingUpdate schema): the routes that are new to the
// receiver, how long all routes through the sender stay valid without another
// update, and the prefixes no longer reachable through the sender.
//
// Both schemas of 2017 were closed: a 2017 connector refuses a message with a
// field it does not know. request_full_table only exists from ilp-connector
// 21.1.9 on, so it is sent only when RequestFullTable is set.
type RoutingUpdate struct {
	NewRoutes []RouteData
	// HoldDownTime is in milliseconds, at least 1.
	HoldDownTime         int64
	UnreachableThroughMe []string
	// RequestFullTable asks the receiver to send its full table next time.
	// nil: the field is absent (what every 2017 version accepts).
	RequestFullTable *bool
}

// HoldDown returns HoldDownTime as a duration, saturating at the largest one.
func (u RoutingUpdate) HoldDown() time.Duration {
	if u.HoldDownTime > int64(math.MaxInt64/time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(u.HoldDownTime) * time.Millisecond
}

// RouteData is one route as a broadcast carries it (an item of the Routes
// schema of five-bells-shared 25.1.0), and as RoutingTables#toJSON and
// Route#toJSON produced it.
type RouteData struct {
	SourceLedger      string
	DestinationLedger string
	// Points is the route's liquidity curve, sent as standard padded base64
	// of its binary form. nil: absent (no curve). A received empty string
	// also means no curve, as 2017 read it.
	Points *curve.Curve
	// MinMessageWindow is in seconds, at least 0; fractions are allowed.
	MinMessageWindow float64
	// AddedDuringEpoch is set in table output only; a broadcast must not
	// carry it (SelectRoutes strips it).
	AddedDuringEpoch *int
	// Paths: nil is absent; an empty slice is sent as [].
	Paths              [][]string
	SourceAccount      string // "" = absent (required in broadcasts)
	DestinationAccount string // "" = absent
}

// The field order below is the one the 2017 connector produced, so that
// encoding a 2017 message after decoding it gives the same bytes.

type routeWire struct {
	SourceLedger       string     `json:"source_ledger"`
	DestinationLedger  string     `json:"destination_ledger"`
	Points             *string    `json:"points,omitempty"`
	MinMessageWindow   float64    `json:"min_message_window"`
	AddedDuringEpoch   *int       `json:"added_during_epoch,omitempty"`
	Paths              [][]string `json:"paths,omitzero"`
	SourceAccount      string     `json:"source_account,omitempty"`
	DestinationAccount string     `json:"destination_account,omitempty"`
}

type updateWire struct {
	NewRoutes            []routeWire `json:"new_routes"`
	HoldDownTime         int64       `json:"hold_down_time"`
	UnreachableThroughMe []string    `json:"unreachable_through_me"`
	RequestFullTable     *bool       `json:"request_full_table,omitempty"`
}

func (d RouteData) wire() routeWire {
	w := routeWire{
		SourceLedger:       d.SourceLedger,
		DestinationLedger:  d.DestinationLedger,
		MinMessageWindow:   d.MinMessageWindow,
		AddedDuringEpoch:   d.AddedDuringEpoch,
		SourceAccount:      d.SourceAccount,
		DestinationAccount: d.DestinationAccount,
	}
	if w.MinMessageWindow == 0 {
		w.MinMessageWindow = 0 // -0 as JavaScript printed it
	}
	if d.Points != nil {
		s := d.Points.Base64()
		w.Points = &s
	}
	if d.Paths != nil {
		w.Paths = make([][]string, len(d.Paths))
		for i, p := range d.Paths {
			if p == nil {
				p = []string{}
			}
			w.Paths[i] = p
		}
	}
	return w
}

// marshal encodes v without Go's HTML escaping (JavaScript did none).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// MarshalJSON writes the route in the field order of the 2017 connector. It
// does not check the route against the schema (table output carries
// added_during_epoch, which a broadcast must not); RoutingUpdate does.
func (d RouteData) MarshalJSON() ([]byte, error) {
	if math.IsNaN(d.MinMessageWindow) || math.IsInf(d.MinMessageWindow, 0) {
		return nil, fmt.Errorf("%w: min_message_window %v is not a JSON number", ErrInvalidUpdate, d.MinMessageWindow)
	}
	return marshal(d.wire())
}

// UnmarshalJSON reads one item of the Routes schema, strictly (see
// DecodeRoutingUpdate).
func (d *RouteData) UnmarshalJSON(b []byte) error {
	v, err := parseJSON(b, "route")
	if err != nil {
		return err
	}
	r, err := decodeRoute(v, "route")
	if err != nil {
		return err
	}
	*d = r
	return nil
}

// Validate checks the route as an item of the Routes schema, as it would be
// sent.
func (d RouteData) Validate() error { return d.validate("route") }

func (d RouteData) validate(path string) error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s.%s: %s", ErrInvalidUpdate, path, field, fmt.Sprintf(format, a...))
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"source_ledger", d.SourceLedger, true},
		{"destination_ledger", d.DestinationLedger, true},
		{"source_account", d.SourceAccount, true},
		{"destination_account", d.DestinationAccount, false},
	} {
		if f.v == "" && !f.required {
			continue
		}
		if !IsIlpAddress(f.v) {
			return bad(f.name, "%q is not an IlpAddress", f.v)
		}
	}
	if !(d.MinMessageWindow >= 0) || math.IsInf(d.MinMessageWindow, 1) {
		return bad("min_message_window", "%v is not a number ≥ 0", d.MinMessageWindow)
	}
	if d.AddedDuringEpoch != nil {
		return bad("added_during_epoch", "not allowed in a broadcast (the Routes schema is closed)")
	}
	return nil
}

// Validate checks the update against the 2017 schemas.
func (u RoutingUpdate) Validate() error {
	if u.HoldDownTime < 1 {
		return fmt.Errorf("%w: hold_down_time: %d is below 1", ErrInvalidUpdate, u.HoldDownTime)
	}
	if float64(u.HoldDownTime) >= 1<<63 {
		// It would be read back (as a JSON number, a float64) as 2^63.
		return fmt.Errorf("%w: hold_down_time: %d ms: %w", ErrInvalidUpdate, u.HoldDownTime, errBeyond)
	}
	for i, a := range u.UnreachableThroughMe {
		if !IsIlpAddress(a) {
			return fmt.Errorf("%w: unreachable_through_me[%d]: %q is not an IlpAddress", ErrInvalidUpdate, i, a)
		}
	}
	for i, r := range u.NewRoutes {
		if err := r.validate(fmt.Sprintf("new_routes[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON checks the update (Validate) and encodes it in the field order
// of the 2017 connector: new_routes, hold_down_time, unreachable_through_me,
// then request_full_table only if set.
func (u RoutingUpdate) MarshalJSON() ([]byte, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	w := updateWire{
		NewRoutes:            make([]routeWire, len(u.NewRoutes)),
		HoldDownTime:         u.HoldDownTime,
		UnreachableThroughMe: u.UnreachableThroughMe,
		RequestFullTable:     u.RequestFullTable,
	}
	if w.UnreachableThroughMe == nil {
		w.UnreachableThroughMe = []string{}
	}
	for i, r := range u.NewRoutes {
		w.NewRoutes[i] = r.wire()
	}
	return marshal(w)
}

// UnmarshalJSON is DecodeRoutingUpdate.
func (u *RoutingUpdate) UnmarshalJSON(b []byte) error {
	d, err := DecodeRoutingUpdate(b)
	if err != nil {
		return err
	}
	*u = d
	return nil
}

// DecodeRoutingUpdate reads the custom data of a broadcast_routes request
// and accepts exactly what the 2017 schemas accepted (ajv 4 on
// ilp-connector's RoutingUpdate.json with request_full_table, and
// five-bells-shared's Routes.json, IlpAddress.json and Base64.json):
//
//   - an object with hold_down_time (an integer ≥ 1; 1e3 and 5.0 are
//     integers), unreachable_through_me (IlpAddress[]) and new_routes, and
//     optionally request_full_table (a boolean), nothing else;
//   - each route an object with source_ledger, destination_ledger and
//     source_account (IlpAddress: ^[a-zA-Z0-9._~-]+$), min_message_window (a
//     number ≥ 0), and optionally destination_account (IlpAddress), points
//     (base64 matching the Base64 schema: standard alphabet, padded, a
//     newline allowed after each group of four) and paths (string[][]),
//     nothing else; null is never a valid value.
//
// Three refusals go beyond the schema, each for a message a 2017 connector
// could not use either: points that are not a valid liquidity curve (2017
// threw while adding the route, after the message had half taken effect),
// a min_message_window too large for a float64 (JavaScript read Infinity),
// and a hold_down_time of 2^63 ms or more. Every error wraps
// ErrInvalidUpdate; a bad curve also wraps curve.ErrInvalid.
func DecodeRoutingUpdate(b []byte) (RoutingUpdate, error) {
	v, err := parseJSON(b, "data")
	if err != nil {
		return RoutingUpdate{}, err
	}
	return decodeUpdate(v)
}

// parseJSON reads one JSON value (numbers kept as json.Number) and nothing
// after it but white space.
func parseJSON(b []byte, path string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidUpdate, path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: %s: data after the JSON value", ErrInvalidUpdate, path)
	}
	return v, nil
}

func decodeUpdate(v any) (RoutingUpdate, error) {
	var u RoutingUpdate
	obj, err := asObject(v, "data")
	if err != nil {
		return u, err
	}
	for k := range obj {
		switch k {
		case "hold_down_time", "unreachable_through_me", "new_routes", "request_full_table":
		default:
			return u, fmt.Errorf("%w: data: unknown field %q (the schema is closed)", ErrInvalidUpdate, k)
		}
	}
	for _, k := range []string{"hold_down_time", "unreachable_through_me", "new_routes"} {
		if _, ok := obj[k]; !ok {
			return u, fmt.Errorf("%w: data: missing %s", ErrInvalidUpdate, k)
		}
	}
	h, err := asNumber(obj["hold_down_time"], "hold_down_time")
	if err != nil {
		return u, err
	}
	switch {
	case h != math.Trunc(h) || h < 1:
		return u, fmt.Errorf("%w: hold_down_time: %v is not an integer ≥ 1", ErrInvalidUpdate, h)
	case h >= 1<<63:
		return u, fmt.Errorf("%w: hold_down_time: %v ms: %w", ErrInvalidUpdate, h, errBeyond)
	}
	u.HoldDownTime = int64(h)

	items, err := asArray(obj["unreachable_through_me"], "unreachable_through_me")
	if err != nil {
		return u, err
	}
	u.UnreachableThroughMe = make([]string, len(items))
	for i, it := range items {
		if u.UnreachableThroughMe[i], err = asAddress(it, "unreachable_through_me", i); err != nil {
			return u, err
		}
	}

	if raw, ok := obj["request_full_table"]; ok {
		v, ok := raw.(bool)
		if !ok {
			return u, fmt.Errorf("%w: request_full_table: not a boolean", ErrInvalidUpdate)
		}
		u.RequestFullTable = &v
	}

	items, err = asArray(obj["new_routes"], "new_routes")
	if err != nil {
		return u, err
	}
	u.NewRoutes = make([]RouteData, len(items))
	for i, it := range items {
		if u.NewRoutes[i], err = decodeRoute(it, fmt.Sprintf("new_routes[%d]", i)); err != nil {
			return u, err
		}
	}
	return u, nil
}

func decodeRoute(v any, path string) (RouteData, error) {
	var d RouteData
	obj, err := asObject(v, path)
	if err != nil {
		return d, err
	}
	for k := range obj {
		switch k {
		case "source_ledger", "destination_ledger", "min_message_window", "source_account",
			"destination_account", "points", "paths":
		default:
			return d, fmt.Errorf("%w: %s: unknown field %q (the schema is closed)", ErrInvalidUpdate, path, k)
		}
	}
	for _, k := range []string{"source_ledger", "destination_ledger", "min_message_window", "source_account"} {
		if _, ok := obj[k]; !ok {
			return d, fmt.Errorf("%w: %s: missing %s", ErrInvalidUpdate, path, k)
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"source_ledger", &d.SourceLedger},
		{"destination_ledger", &d.DestinationLedger},
		{"source_account", &d.SourceAccount},
		{"destination_account", &d.DestinationAccount},
	} {
		if raw, ok := obj[f.name]; ok {
			if *f.dst, err = asAddress(raw, path+"."+f.name, -1); err != nil {
				return d, err
			}
		}
	}
	if d.MinMessageWindow, err = asNumber(obj["min_message_window"], path+".min_message_window"); err != nil {
		return d, err
	}
	if d.MinMessageWindow < 0 {
		return d, fmt.Errorf("%w: %s.min_message_window: %v is below 0", ErrInvalidUpdate, path, d.MinMessageWindow)
	}
	if d.MinMessageWindow == 0 {
		d.MinMessageWindow = 0 // -0 (which JavaScript printed as 0) becomes 0
	}
	if raw, ok := obj["points"]; ok {
		s, ok := raw.(string)
		if !ok {
			return d, fmt.Errorf("%w: %s.points: not a string", ErrInvalidUpdate, path)
		}
		if !IsSchemaBase64(s) {
			return d, fmt.Errorf("%w: %s.points: not base64 as the schema requires", ErrInvalidUpdate, path)
		}
		if s != "" {
			c, err := curve.FromBase64(s)
			if err != nil {
				return d, fmt.Errorf("%w: %s.points: %w", ErrInvalidUpdate, path, err)
			}
			d.Points = &c
		}
	}
	if raw, ok := obj["paths"]; ok {
		outer, err := asArray(raw, path+".paths")
		if err != nil {
			return d, err
		}
		d.Paths = make([][]string, len(outer))
		for i, o := range outer {
			inner, ok := o.([]any)
			if !ok {
				return d, fmt.Errorf("%w: %s.paths[%d]: not an array", ErrInvalidUpdate, path, i)
			}
			d.Paths[i] = make([]string, len(inner))
			for j, e := range inner {
				if d.Paths[i][j], ok = e.(string); !ok {
					return d, fmt.Errorf("%w: %s.paths[%d][%d]: not a string", ErrInvalidUpdate, path, i, j)
				}
			}
		}
	}
	return d, nil
}

func asObject(v any, path string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s: not an object", ErrInvalidUpdate, path)
	}
	return m, nil
}

func asArray(v any, path string) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s: not an array", ErrInvalidUpdate, path)
	}
	return a, nil
}

// asAddress reads an IlpAddress at path, or at path[i] when i ≥ 0.
func asAddress(v any, path string, i int) (string, error) {
	if i >= 0 {
		path = fmt.Sprintf("%s[%d]", path, i)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s: not a string", ErrInvalidUpdate, path)
	}
	if !IsIlpAddress(s) {
		return "", fmt.Errorf("%w: %s: %q is not an IlpAddress", ErrInvalidUpdate, path, s)
	}
	return s, nil
}

func asNumber(v any, path string) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%w: %s: not a number", ErrInvalidUpdate, path)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %s: %w", ErrInvalidUpdate, path, n, errBeyond)
	}
	return f, nil
}

// IsIlpAddress reports whether s matches the IlpAddress schema of 2017,
// ^[a-zA-Z0-9._~-]+$ (no check of the segments or the scheme).
func IsIlpAddress(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAddressByte(s[i]) {
			return false
		}
	}
	return true
}

func isAddressByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '~' || c == '-'
}

func isBase64Byte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

// IsSchemaBase64 reports whether s matches the Base64 schema of 2017:
// ^(?:[A-Za-z0-9+/]{4}\n?)*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$ —
// standard alphabet, padded, a newline allowed after each group of four, the
// empty string included. The groups hold no '=', so taking them greedily
// decides the match.
func IsSchemaBase64(s string) bool {
	i := 0
	for len(s)-i >= 4 && isBase64Byte(s[i]) && isBase64Byte(s[i+1]) && isBase64Byte(s[i+2]) && isBase64Byte(s[i+3]) {
		i += 4
		if i < len(s) && s[i] == '\n' {
			i++
		}
	}
	switch rest := s[i:]; len(rest) {
	case 0:
		return true
	case 4:
		return isBase64Byte(rest[0]) && isBase64Byte(rest[1]) &&
			(rest[2] == '=' && rest[3] == '=' || isBase64Byte(rest[2]) && rest[3] == '=')
	}
	return false
}
