package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ilpkit/ilpkit/curve"
	"github.com/ilpkit/ilpkit/internal/vectors"
)

// A small JSON Schema (draft-04) checker for the keywords the 2017 routing
// schemas use (type, properties, required, additionalProperties, items,
// minItems, minimum, pattern, $ref), driven by the schemas of
// routing_rpc_spsp.json. The tests compare the decoder with it.

type schemaSet struct {
	update map[string]any            // RoutingUpdate, with the 21.1.9 addition
	byName map[string]map[string]any // $ref targets: Routes.json, IlpAddress.json, Base64.json
	re     map[string]*regexp.Regexp
}

func loadSchemas(t testing.TB) *schemaSet {
	t.Helper()
	var doc struct {
		Routing []map[string]any `json:"routing"`
	}
	vectors.Load(t, "routing_rpc_spsp.json", &doc)
	s := &schemaSet{byName: map[string]map[string]any{}, re: map[string]*regexp.Regexp{}}
	var addition map[string]any
	for _, e := range doc.Routing {
		switch {
		case e["schema"] != nil:
			sch := e["schema"].(map[string]any)
			switch sch["title"] {
			case "RoutingUpdate":
				s.update = sch
			case "Routes":
				s.byName["Routes.json"] = sch
			}
		case e["addition"] != nil:
			addition = e["addition"].(map[string]any)
		case e["IlpAddress_pattern"] != nil:
			s.byName["IlpAddress.json"] = map[string]any{"type": "string", "pattern": e["IlpAddress_pattern"]}
			s.byName["Base64.json"] = map[string]any{"type": "string", "pattern": e["Base64_pattern"]}
		}
	}
	if s.update == nil || addition == nil || len(s.byName) != 3 {
		t.Fatalf("routing schemas not found in the vectors (update %v, addition %v, %d refs)", s.update != nil, addition != nil, len(s.byName))
	}
	for _, ref := range []string{"IlpAddress.json", "Base64.json"} {
		p := s.byName[ref]["pattern"].(string)
		re, err := regexp.Compile(p) // these JavaScript patterns mean the same in Go
		if err != nil {
			t.Fatalf("pattern %q: %v", p, err)
		}
		s.re[p] = re
	}
	// The update as ilp-connector 21.1.9+ validated it.
	props := map[string]any{}
	for k, v := range s.update["properties"].(map[string]any) {
		props[k] = v
	}
	for k, v := range addition {
		props[k] = v
	}
	merged := map[string]any{}
	for k, v := range s.update {
		merged[k] = v
	}
	merged["properties"] = props
	s.update = merged
	return s
}

func (s *schemaSet) routeItem() map[string]any {
	return s.byName["Routes.json"]["items"].(map[string]any)
}

func (s *schemaSet) pattern(t testing.TB, p string) *regexp.Regexp {
	re, ok := s.re[p]
	if !ok {
		t.Fatalf("pattern %q was not compiled", p)
	}
	return re
}

// valid reports whether v (decoded with UseNumber) satisfies sch.
func (s *schemaSet) valid(t testing.TB, sch map[string]any, v any) bool {
	if ref, ok := sch["$ref"].(string); ok {
		target, ok := s.byName[ref]
		if !ok {
			t.Fatalf("unknown $ref %q", ref)
		}
		if !s.valid(t, target, v) {
			return false
		}
	}
	if typ, ok := sch["type"].(string); ok && !hasType(v, typ) {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := sch["properties"].(map[string]any)
		if req, ok := sch["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					return false
				}
			}
		}
		for k, val := range x {
			p, ok := props[k]
			if !ok {
				if sch["additionalProperties"] == false {
					return false
				}
				continue
			}
			if !s.valid(t, p.(map[string]any), val) {
				return false
			}
		}
	case []any:
		if m, ok := sch["minItems"].(json.Number); ok {
			n, _ := m.Int64()
			if int64(len(x)) < n {
				return false
			}
		}
		if items, ok := sch["items"].(map[string]any); ok {
			for _, it := range x {
				if !s.valid(t, items, it) {
					return false
				}
			}
		}
	case json.Number:
		if m, ok := sch["minimum"].(json.Number); ok {
			f, _ := strconv.ParseFloat(x.String(), 64)
			min, _ := strconv.ParseFloat(m.String(), 64)
			if f < min {
				return false
			}
		}
	case string:
		if p, ok := sch["pattern"].(string); ok && !s.pattern(t, p).MatchString(x) {
			return false
		}
	}
	return true
}

// hasType is the draft-04 type test as ajv 4 made it on JavaScript values:
// "integer" is a number with no fraction after parsing to a double.
func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number", "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		if typ == "number" {
			return true
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		return err == nil && f == math.Trunc(f) || err != nil && math.IsInf(f, 0)
	}
	return false
}

// validJSON decodes b as JSON.parse would see it and checks it against the
// update schema; ok is false when b is not JSON at all.
func (s *schemaSet) validJSON(t testing.TB, b []byte) (valid, ok bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return false, false
	}
	if d.More() {
		return false, false
	}
	if _, err := d.Token(); err == nil {
		return false, false // trailing data
	}
	return s.valid(t, s.update, v), true
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// probeValues are JSON values of every type and around every limit the
// schemas state.
var probeValues = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `0.5`, `1.5`, `2.0`, `1e3`, `1E-2`, `45000`,
	`9007199254740993`, `1e308`, `""`, `"x"`, `"g.a."`, `"g.a b"`, `"AAAA"`, `[]`, `[[]]`, `["g."]`, `[1]`,
	`[["a.","b."]]`, `[[1]]`, `["bad addr"]`, `{}`, `{"a":1}`,
}

func TestSchemaDerivedCases(t *testing.T) {
	s := loadSchemas(t)
	base := map[string]json.RawMessage{}
	var msg struct {
		Routing []struct {
			Message *struct {
				Custom struct {
					Data map[string]json.RawMessage `json:"data"`
				} `json:"custom"`
			} `json:"message"`
		} `json:"routing"`
	}
	vectors.Load(t, "routing_rpc_spsp.json", &msg)
	for _, e := range msg.Routing {
		if e.Message != nil && strings.HasPrefix(string(e.Message.Custom.Data["new_routes"]), "[") {
			base = e.Message.Custom.Data
			break
		}
	}
	if len(base) == 0 {
		t.Fatal("no broadcast example to derive cases from")
	}
	var routes []map[string]json.RawMessage
	if err := json.Unmarshal(base["new_routes"], &routes); err != nil || len(routes) == 0 {
		t.Fatalf("example routes: %v", err)
	}
	route := routes[0]

	encode := func(m map[string]json.RawMessage) []byte {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withRoute := func(r map[string]json.RawMessage) []byte {
		m := clone(base)
		m["new_routes"] = json.RawMessage("[" + string(encode(r)) + "]")
		return encode(m)
	}
	cases := 0
	check := func(what string, b []byte) {
		t.Helper()
		cases++
		valid, ok := s.validJSON(t, b)
		if !ok {
			t.Fatalf("%s: probe is not JSON: %s", what, b)
		}
		_, err := DecodeRoutingUpdate(b)
		if valid && beyondSchema(err) {
			return // a documented refusal beyond the schema
		}
		if valid != (err == nil) {
			t.Errorf("%s: schema says valid=%v, decoder error %v\n%s", what, valid, err, b)
		}
	}
	check("example", encode(base))

	// Each property of each object: left out, replaced by every probe value,
	// and an unknown property added.
	levels := []struct {
		name   string
		schema map[string]any
		obj    map[string]json.RawMessage
		build  func(map[string]json.RawMessage) []byte
	}{
		{"data", s.update, base, encode},
		{"route", s.routeItem(), route, withRoute},
	}
	for _, lv := range levels {
		props := lv.schema["properties"].(map[string]any)
		required := map[string]bool{}
		for _, r := range lv.schema["required"].([]any) {
			required[r.(string)] = true
		}
		for _, k := range sortedKeys(props) {
			m := clone(lv.obj)
			delete(m, k)
			valid, _ := s.validJSON(t, lv.build(m))
			if valid == required[k] {
				t.Fatalf("%s.%s: the schema checker disagrees with required", lv.name, k)
			}
			check(lv.name+" without "+k, lv.build(m))
			for _, p := range probeValues {
				m := clone(lv.obj)
				m[k] = json.RawMessage(p)
				check(lv.name+"."+k+"="+p, lv.build(m))
			}
		}
		m := clone(lv.obj)
		m["added_during_epoch"] = json.RawMessage(`1`)
		if lv.schema["additionalProperties"] != false {
			t.Fatalf("%s: schema is not closed", lv.name)
		}
		check(lv.name+" with an unknown field", lv.build(m))
	}

	// Strings against the two patterns, through the fields that use them.
	for _, a := range []string{"g.", "a", "peer.x.Y_z~-", "g.a b", "g.ä", "g.\n", "", "g.a/", "g.a+b", ".", "~"} {
		m := clone(route)
		m["source_ledger"] = mustJSON(t, a)
		check("source_ledger "+strconv.Quote(a), withRoute(m))
		m = clone(base)
		m["unreachable_through_me"] = mustJSON(t, []string{a})
		check("unreachable "+strconv.Quote(a), encode(m))
	}
	for _, p := range []string{"", "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAKAAAAAAAAABQAAAA=",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAKAAAAAAAAABQAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAKAAAAAAAAABQAAA-=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAKAAAAAAAAABQAAA_=",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAKAAAAAAAAABQAAAA=\n", "AAAA AAAA", "=", "AA=="} {
		m := clone(route)
		m["points"] = mustJSON(t, p)
		b := withRoute(m)
		valid, _ := s.validJSON(t, b)
		_, err := DecodeRoutingUpdate(b)
		cases++
		switch {
		case !valid && err == nil:
			t.Errorf("points %q: decoded although the schema refuses it", p)
		case valid && err != nil && !errors.Is(err, curve.ErrInvalid):
			t.Errorf("points %q: schema accepts it, decoder refused it for another reason than the curve: %v", p, err)
		}
	}
	t.Logf("%d cases derived from the schemas", cases)
}

// beyondSchema reports whether err is one of the refusals DecodeRoutingUpdate
// documents beyond the schema: an invalid curve, a number out of range.
func beyondSchema(err error) bool {
	return errors.Is(err, ErrInvalidUpdate) && (errors.Is(err, curve.ErrInvalid) || errors.Is(err, errBeyond))
}

func clone(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The hand-written pattern checks agree with the schema patterns.
func TestPatternsMatchSchema(t *testing.T) {
	s := loadSchemas(t)
	addr := s.pattern(t, s.byName["IlpAddress.json"]["pattern"].(string))
	b64 := s.pattern(t, s.byName["Base64.json"]["pattern"].(string))
	alphabet := []byte("aZ09._~-+/=\n ä\x00")
	count, matches := 0, 0
	try := func(s string) {
		count++
		if b64.MatchString(s) && s != "" {
			matches++
		}
		if IsIlpAddress(s) != addr.MatchString(s) {
			t.Errorf("IsIlpAddress(%q) = %v, schema %v", s, IsIlpAddress(s), addr.MatchString(s))
		}
		if IsSchemaBase64(s) != b64.MatchString(s) {
			t.Errorf("IsSchemaBase64(%q) = %v, schema %v", s, IsSchemaBase64(s), b64.MatchString(s))
		}
	}
	// Every string up to length 4 over a small alphabet...
	var gen func(prefix []byte, n int)
	gen = func(prefix []byte, n int) {
		try(string(prefix))
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(append(prefix, c), n-1)
		}
	}
	gen(nil, 4)
	// ...and longer ones, mostly base64 characters so that matches happen.
	rng := rand.New(rand.NewSource(3))
	for range 50000 {
		b := make([]byte, 5+rng.Intn(14))
		for i := range b {
			switch r := rng.Intn(20); {
			case r < 16:
				b[i] = "AZaz09+/"[rng.Intn(8)]
			case r < 18:
				b[i] = '='
			default:
				b[i] = alphabet[rng.Intn(len(alphabet))]
			}
		}
		try(string(b))
	}
	for _, s := range []string{"AAAA\nAAAA\nAA==", "AAAA\nAAAA\nAA==\n", "AAAA\nAAA=", "AAAAAAAA\n", "AAAA\n\nAAAA"} {
		if IsSchemaBase64(s) != b64.MatchString(s) {
			t.Errorf("IsSchemaBase64(%q) = %v, schema %v", s, IsSchemaBase64(s), b64.MatchString(s))
		}
	}
	if count < 100000 || matches < 1000 {
		t.Fatalf("only %d strings, %d of them base64", count, matches)
	}
}
