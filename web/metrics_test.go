package web

import (
	"strings"
	"testing"
	"time"
)

// TestMetrics: /metrics serves Prometheus text with the kit's own gauges
// beside the Go runtime's.
func TestMetrics(t *testing.T) {
	e := newEnv(t, sqliteDSN(t))
	var r resp
	for i := 0; i < 100; i++ { // the kit leads once its bus runs
		r = e.client().do("GET", "/metrics", nil)
		if strings.Contains(string(r.body), "\nilpkit_leader 1\n") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	body := string(r.body)
	if r.code != 200 || !strings.Contains(r.hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", r.code, r.hdr.Get("Content-Type"))
	}
	for _, want := range []string{"\nilpkit_leader 1\n", "\nilpkit_bus_dropped_total 0\n", "go_goroutines "} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", strings.TrimSpace(want))
		}
	}
}
