package routing

import (
	"slices"
	"sort"
)

// PrefixMap maps ledger prefixes to values and finds the value of the longest
// prefix of an address, as the PrefixMap of ilp-routing 10.1.0 did.
//
// Keys are kept in the 2017 order: longer keys first, keys of equal length in
// reverse byte order (for the ASCII of ILP addresses that is JavaScript's
// string order; 2017 measured and compared UTF-16 code units, which differs
// only for non-ASCII keys). Resolve returns the exact key if present, else the
// first key in that order that the address starts with, which is the longest
// one. There is no segment check: "g.us" is a prefix of "g.usd.bob".
//
// The zero value is an empty map ready to use. A PrefixMap is not safe for
// concurrent use.
type PrefixMap[V any] struct {
	keys  []string // 2017 order
	items map[string]V
	lens  []int       // the distinct key lengths, longest first
	nlen  map[int]int // how many keys have each length
}

// before reports whether key a comes before key b in the 2017 order.
func before(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// Len is the number of keys.
func (m *PrefixMap[V]) Len() int { return len(m.keys) }

// Keys returns the keys in the 2017 order.
func (m *PrefixMap[V]) Keys() []string { return slices.Clone(m.keys) }

// Get returns the value stored under exactly prefix.
func (m *PrefixMap[V]) Get(prefix string) (V, bool) {
	v, ok := m.items[prefix]
	return v, ok
}

// Insert stores v under prefix. A new key takes its place in the order; an
// existing key keeps it and only its value changes.
func (m *PrefixMap[V]) Insert(prefix string, v V) {
	if m.items == nil {
		m.items = make(map[string]V)
		m.nlen = make(map[int]int)
	}
	if _, ok := m.items[prefix]; !ok {
		i := sort.Search(len(m.keys), func(i int) bool { return before(prefix, m.keys[i]) })
		m.keys = slices.Insert(m.keys, i, prefix)
		if m.nlen[len(prefix)] == 0 {
			j := sort.Search(len(m.lens), func(j int) bool { return m.lens[j] < len(prefix) })
			m.lens = slices.Insert(m.lens, j, len(prefix))
		}
		m.nlen[len(prefix)]++
	}
	m.items[prefix] = v
}

// Delete removes prefix (nothing happens if it is absent).
func (m *PrefixMap[V]) Delete(prefix string) {
	if _, ok := m.items[prefix]; !ok {
		return
	}
	delete(m.items, prefix)
	i := sort.Search(len(m.keys), func(i int) bool { return !before(m.keys[i], prefix) })
	m.keys = slices.Delete(m.keys, i, i+1)
	if m.nlen[len(prefix)]--; m.nlen[len(prefix)] == 0 {
		delete(m.nlen, len(prefix))
		j := slices.Index(m.lens, len(prefix))
		m.lens = slices.Delete(m.lens, j, j+1)
	}
}

// Resolve returns the value of the longest key that address starts with
// (an exact key first), and the key itself.
//
// The 2017 map scanned its ordered keys for the first one the address
// started with. Two keys of the same length cannot both be prefixes of one
// address, so that first key is the longest one; Resolve finds it by trying
// the address cut at each key length present, longest first.
func (m *PrefixMap[V]) Resolve(address string) (key string, v V, ok bool) {
	if v, ok := m.items[address]; ok {
		return address, v, true
	}
	for _, l := range m.lens {
		if l > len(address) {
			continue
		}
		if v, ok := m.items[address[:l]]; ok {
			return address[:l], v, true
		}
	}
	return "", v, false
}

// Each calls fn for every key and value in the 2017 order. fn must not change
// the map.
func (m *PrefixMap[V]) Each(fn func(prefix string, v V)) {
	for _, k := range m.keys {
		fn(k, m.items[k])
	}
}
