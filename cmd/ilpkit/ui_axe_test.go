package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// axeSource reads axe-core's axe.min.js: $ILPKIT_AXE_JS, or what
// scripts/fetch-axe (make axe, run by make test and .ci/run) put in
// .cache/axe-core. The test skips without it, except on CI (CI=true).
func axeSource(t *testing.T) string {
	t.Helper()
	path := os.Getenv("ILPKIT_AXE_JS")
	if path == "" {
		path = filepath.Join("..", "..", ".cache", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no axe-core at %s (CI=true: scripts/fetch-axe puts it there)", path)
		}
		t.Skipf("no axe-core at %s; run make axe (scripts/fetch-axe, needs npm) to run the accessibility test", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// axeRun runs every axe rule on the page and answers the violations of
// serious or critical impact, one text each with the elements at fault.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then((r) => r.violations
	.filter((v) => v.impact === "serious" || v.impact === "critical")
	.map((v) => v.impact + " " + v.id + ": " + v.help + " (" + v.helpUrl + ")" +
		v.nodes.map((n) => "\n\t\t" + n.target.join(" ") + ": " + (n.failureSummary || "").replaceAll("\n", " ")).join("")))`

// axeViolations injects axe-core into the page (once per document) and
// runs it.
func (b *browser) axeViolations(src string) []string {
	b.t.Helper()
	// Runtime.evaluate is not bound by the page's CSP (script-src 'self').
	if !eval[bool](b, "typeof window.axe === 'object'") {
		eval[bool](b, src+"\n;true")
	}
	return eval[[]string](b, axeRun)
}

// TestUIAxe: the accessibility audit. axe-core finds no serious or
// critical violation on any page of the UI (the tour of uiTour: signed
// out, as a user with a resolved receiver and a quote on the send page,
// and as the admin, at 1280 px and 375 px, with errors shown next to
// fields).
func TestUIAxe(t *testing.T) {
	exe := chromiumPath(t)
	src := axeSource(t)
	if testing.Short() {
		t.Skip("starts processes")
	}
	seen := 0
	uiTour(t, exe, func(b *browser, name string, width int64) {
		if seen == 0 {
			// axe works here: it finds a button without a name (critical),
			// and the page without it.
			eval[bool](b, `(document.body.append(Object.assign(document.createElement("button"), {id: "axe-probe"})), true)`)
			if v := b.axeViolations(src); len(v) == 0 || !strings.Contains(strings.Join(v, " "), "button-name") {
				t.Fatalf("axe misses a button without a name: %q", v)
			}
			eval[bool](b, `(document.getElementById("axe-probe").remove(), true)`)
		}
		seen++
		if v := b.axeViolations(src); len(v) > 0 {
			t.Errorf("%s at %d px: %d serious or critical accessibility violations:\n\t%s", name, width, len(v), strings.Join(v, "\n\t"))
		}
	})
	if seen < 20 {
		t.Errorf("the tour showed only %d pages", seen)
	}
}
