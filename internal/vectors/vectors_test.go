package vectors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGoldenCopyMatchesShared checks that the committed copy has not drifted
// from the shared folder, when that folder is present.
func TestGoldenCopyMatchesShared(t *testing.T) {
	shared := sharedDir()
	if shared == "" {
		t.Skip("shared/spec/vectors is not beside this checkout; the golden copy is used")
	}
	entries, err := os.ReadDir(shared)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("shared vector folder is empty")
	}
	for _, e := range entries {
		want, err := os.ReadFile(filepath.Join(shared, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(goldenDir(), e.Name()))
		if err != nil {
			t.Fatalf("golden copy lacks %s: %v", e.Name(), err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("golden/%s differs from %s", e.Name(), shared)
		}
	}
}

func TestLoad(t *testing.T) {
	var doc struct {
		Vectors []map[string]any `json:"vectors"`
	}
	Load(t, "ilp_packet_ilqp.json", &doc)
	if len(doc.Vectors) == 0 {
		t.Fatal("no vectors loaded")
	}
}
