package psk

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Header is one "Name: value" line of the PSK details.
type Header struct {
	Name  string
	Value string
}

// Headers is an ordered list of headers. Order matters on the wire (it
// changes the packet bytes and so the condition), and a name may repeat.
// Parsed headers have lower-case names.
type Headers []Header

// Get returns the value of the first header named name, compared without
// regard to case, or "" if there is none.
func (h Headers) Get(name string) string {
	v, _ := h.Lookup(name)
	return v
}

// Lookup is Get that also reports whether the header is present.
func (h Headers) Lookup(name string) (string, bool) {
	for _, x := range h {
		if strings.EqualFold(x.Name, name) {
			return x.Value, true
		}
	}
	return "", false
}

// Values returns the values of every header named name, compared without
// regard to case, in order.
func (h Headers) Values(name string) []string {
	var vs []string
	for _, x := range h {
		if strings.EqualFold(x.Name, name) {
			vs = append(vs, x.Value)
		}
	}
	return vs
}

// Map returns the headers as a map from name to the first value of that
// name, for callers that want 2017's object view (a 2017 receiver saw the
// headers as a JavaScript object keyed by lower-case name).
func (h Headers) Map() map[string]string {
	m := make(map[string]string, len(h))
	for _, x := range h {
		if _, dup := m[x.Name]; !dup {
			m[x.Name] = x.Value
		}
	}
	return m
}

// ErrBadHeader is wrapped by the errors for a header that cannot be written:
// a name holding ':' or a line break, or a value holding a line break.
var ErrBadHeader = errors.New("psk: header cannot be written")

func (h Headers) validate() error {
	for _, x := range h {
		if strings.ContainsAny(x.Name, ":\n") {
			return fmt.Errorf("%w: name %q", ErrBadHeader, x.Name)
		}
		if strings.Contains(x.Value, "\n") {
			return fmt.Errorf("%w: value of %q holds a line break", ErrBadHeader, x.Name)
		}
	}
	return nil
}

// size is the length of the header block as appendBlock writes it.
func (h Headers) size() int {
	n := 0
	for i, x := range h {
		if i > 0 {
			n++
		}
		n += len(x.Name) + 2 + len(x.Value)
	}
	return n
}

// appendBlock writes the headers as "Name: value" lines joined by "\n" and
// followed by the blank line, "\n\n".
func (h Headers) appendBlock(b []byte) []byte {
	for i, x := range h {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, x.Name...)
		b = append(b, ": "...)
		b = append(b, x.Value...)
	}
	return append(b, "\n\n"...)
}

// parseBlock reads a header block the way the parse-headers package of 2017
// did (see the package documentation). block has no status line.
func parseBlock(block string) Headers {
	if block == "" {
		return nil
	}
	block = jsTrim(block)
	h := make(Headers, 0, strings.Count(block, "\n")+1)
	for row := range strings.SplitSeq(block, "\n") {
		var name, value string
		if i := strings.IndexByte(row, ':'); i >= 0 {
			name, value = row[:i], row[i+1:]
		} else {
			// JavaScript's row.slice(0, -1): every character but the last.
			_, last := utf8.DecodeLastRuneInString(row)
			name, value = row[:len(row)-last], row
		}
		h = append(h, Header{Name: strings.ToLower(jsTrim(name)), Value: jsTrim(value)})
	}
	return h
}

// lossyUTF8 returns s with each run of invalid UTF-8 replaced by U+FFFD, the
// way Node's Buffer.toString("utf8") made text of the header bytes.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// jsTrim removes what JavaScript's String.prototype.trim (and the \s of its
// regular expressions) removes from both ends: white space and line
// terminators, Unicode ones included.
func jsTrim(s string) string {
	return strings.TrimFunc(s, jsSpace)
}

func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return 0x2000 <= r && r <= 0x200a
}
