package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads a comma-separated list of IP addresses and
// CIDR prefixes (ILPKIT_TRUSTED_PROXIES), such as "127.0.0.1, 10.0.0.0/8,
// ::1". Empty items are skipped; "" is none.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", item, err)
			}
			if p.Addr().Is4In6() {
				return nil, fmt.Errorf("trusted proxy %q: write IPv4 prefixes in IPv4 form", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", item, err)
		}
		if a.Zone() != "" {
			return nil, fmt.Errorf("trusted proxy %q: no zones", item)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// trusted tells whether a is one of the trusted proxies.
func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads an address as a socket or a proxy gives it: "1.2.3.4",
// "::1", "[::1]:80" or "1.2.3.4:5678". IPv4-mapped IPv6 addresses become
// IPv4, zones are dropped.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

// clientAddr is the address of the client of r. It is the socket's peer,
// unless that peer is one of the trusted proxies: then X-Forwarded-For is
// read from the right (each proxy appends the address it got the request
// from), skipping trusted proxies, and the first hop that is not one is the
// client. A header that only names trusted proxies gives the leftmost; an
// entry that is not an address ends the walk at the last good one. Nothing
// a client sends can choose its address unless the proxies it passed
// through are trusted and vouch for it.
func clientAddr(r *http.Request, proxies []netip.Prefix) string {
	peer, ok := parseHop(r.RemoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
	if len(proxies) == 0 || !trusted(peer, proxies) {
		return peer.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !trusted(a, proxies) {
			break
		}
	}
	return client.String()
}
