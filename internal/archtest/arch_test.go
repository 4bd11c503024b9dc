// Package archtest enforces the import rules of DESIGN.md: imports flow one
// way (ilp ← curve ← routing ← connector; ledger ← plugins, backends,
// connector, kit), adapters (backends, plugins, web) never import each
// other, and only cmd/ wires concrete types together.
package archtest

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/ilpkit/ilpkit"

// rule lists, for packages under a path, the module packages they may
// depend on (directly or not). A pattern ending in "/..." covers a subtree.
type rule struct {
	pkg   string
	allow []string
}

var rules = []rule{
	{"ilp", nil},
	{"curve", []string{"ilp"}},
	{"ledger", []string{"ilp"}},
	{"ledger/ledgertest", []string{"ilp", "ledger"}},
	{"ledger/plugintest", []string{"ilp", "ledger"}},
	{"psk", []string{"ilp"}},
	{"routing", []string{"ilp", "curve"}},
	{"webfinger", nil},
	{"spsp", []string{"ilp", "psk", "webfinger"}},
	{"backend/...", []string{"ilp", "ledger", "internal/..."}},
	{"plugin/...", []string{"ilp", "curve", "ledger", "psk", "backend/kv", "internal/..."}},
	{"connector", []string{"ilp", "curve", "routing", "ledger", "internal/..."}},
	{"internal/...", []string{"ilp", "curve", "ledger", "internal/..."}},
}

func match(pattern, pkg string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	}
	return pkg == pattern
}

// TestImportRules lists every non-test dependency of every package of the
// module and checks it against the rules.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pkg, ok := strings.CutPrefix(fields[0], module+"/")
		if !ok {
			continue
		}
		seen++
		if strings.HasPrefix(pkg, "cmd/") {
			continue // commands wire everything together
		}
		var r *rule
		for i := range rules {
			if match(rules[i].pkg, pkg) {
				r = &rules[i]
				break
			}
		}
		for _, dep := range fields[1:] {
			d, ok := strings.CutPrefix(dep, module+"/")
			if !ok {
				continue
			}
			if strings.HasPrefix(d, "cmd/") {
				t.Errorf("%s imports command %s", pkg, d)
				continue
			}
			if d == "internal/vectors" || d == "internal/archtest" {
				t.Errorf("%s imports the test-only package %s outside tests", pkg, d)
				continue
			}
			if r == nil {
				continue // packages without a rule yet (kit, web, ...) may use anything below cmd
			}
			allowed := false
			for _, a := range r.allow {
				if match(a, d) {
					allowed = true
					break
				}
			}
			if !allowed {
				t.Errorf("%s may not depend on %s (rule %q allows %v)", pkg, d, r.pkg, r.allow)
			}
		}
	}
	if seen < 2 {
		t.Fatalf("go list found only %d packages of %s", seen, module)
	}
}
