// Package vectors finds and loads the golden test vectors that the original
// 2017 JavaScript packages produced (shared/spec/vectors). Tests read them
// from that folder at test time; a byte-identical copy is kept in golden/ so
// that a clone built away from the shared folder still has them.
package vectors

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// EnvDir names an environment variable that, when set, points at the vector
// folder to use instead of searching for it.
const EnvDir = "ILPKIT_VECTORS"

// Dir returns the folder holding the shared vectors: $ILPKIT_VECTORS, else the
// first shared/spec/vectors found beside the repository or one of its parents,
// else the copy in golden/.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	if d := sharedDir(); d != "" {
		return d
	}
	return goldenDir()
}

func goldenDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "golden")
}

// sharedDir walks up from the repository looking for shared/spec/vectors as a
// child or sibling of each ancestor.
func sharedDir() string {
	dir := filepath.Dir(goldenDir())
	for {
		for _, c := range []string{
			filepath.Join(dir, "shared", "spec", "vectors"),
			filepath.Join(dir, "..", "shared", "spec", "vectors"),
		} {
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				return c
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Read returns the raw bytes of one vector file, such as "ilp_packet_ilqp.json".
func Read(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(tb), name))
	if err != nil {
		tb.Fatalf("vectors: %v", err)
	}
	return b
}

// Load decodes one vector file into v. Numbers are kept as json.Number when v
// holds interface values, so that large integers are not rounded.
func Load(tb testing.TB, name string, v any) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(Read(tb, name)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("vectors: decoding %s: %v", name, err)
	}
}
